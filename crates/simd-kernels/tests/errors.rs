//! Bad input gets a typed error, never a panic.

use novacron_simd_kernels::{Error, Kernels, Level};

#[test]
fn binary_kernels_reject_length_mismatch() {
    let k = Kernels::best();
    let (a, b) = ([1.0f32, 2.0, 3.0], [1.0f32, 2.0]);
    let want = Err(Error::LengthMismatch { left: 3, right: 2 });
    assert_eq!(k.dot(&a, &b), want);
    assert_eq!(k.l1(&a, &b), want);
    assert_eq!(k.l2_squared(&a, &b), want);
    assert_eq!(k.l2(&a, &b).map(|_| ()), want.map(|_| ()));
    assert_eq!(
        k.cosine_distance(&a, &b).map(|_| ()),
        Err(Error::LengthMismatch { left: 3, right: 2 })
    );
    let mut y = [0.0f32; 2];
    assert_eq!(
        k.axpy(1.0, &a, &mut y),
        Err(Error::LengthMismatch { left: 3, right: 2 })
    );
    assert_eq!(
        k.add(&a, &mut y),
        Err(Error::LengthMismatch { left: 3, right: 2 })
    );
    let msg = Error::LengthMismatch { left: 3, right: 2 }.to_string();
    assert!(msg.contains("same length"), "{msg}");
}

#[test]
fn histogram_rejects_zero_bins_and_bad_ranges() {
    let k = Kernels::best();
    let x = [1.0f64, 2.0];
    assert_eq!(k.histogram(&x, 0.0, 1.0, 0), Err(Error::ZeroBins));
    assert_eq!(
        k.histogram(&x, 1.0, 0.0, 4),
        Err(Error::InvalidRange { lo: 1.0, hi: 0.0 })
    );
    assert_eq!(
        k.histogram(&x, 1.0, 1.0, 4),
        Err(Error::InvalidRange { lo: 1.0, hi: 1.0 })
    );
    assert!(matches!(
        k.histogram(&x, f64::NAN, 1.0, 4),
        Err(Error::InvalidRange { .. })
    ));
    assert!(matches!(
        k.histogram(&x, 0.0, f64::INFINITY, 4),
        Err(Error::InvalidRange { .. })
    ));
}

#[test]
fn out_of_range_values_land_in_underflow_and_overflow() {
    let h = Kernels::best()
        .histogram(&[-5.0f32, 0.0, 0.5, 1.0, 7.0, f32::INFINITY], 0.0, 1.0, 2)
        .expect("valid");
    assert_eq!(h.counts(), &[1, 2]);
    assert_eq!((h.underflow(), h.overflow(), h.nan()), (1, 2, 0));
}

#[test]
fn clamp_rejects_inverted_or_nan_bounds() {
    let k = Kernels::best();
    let mut x = [1.0f64];
    assert_eq!(
        k.clamp(&mut x, 2.0, 1.0),
        Err(Error::InvalidRange { lo: 2.0, hi: 1.0 })
    );
    assert!(matches!(
        k.clamp(&mut x, f64::NAN, 1.0),
        Err(Error::InvalidRange { .. })
    ));
    assert_eq!(x, [1.0]);
}

#[test]
fn unsupported_and_unknown_levels_are_errors() {
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        Kernels::new(Level::Neon),
        Err(Error::UnsupportedLevel { level: Level::Neon })
    );
    #[cfg(not(feature = "avx512"))]
    assert_eq!(
        Kernels::new(Level::Avx512),
        Err(Error::UnsupportedLevel {
            level: Level::Avx512
        })
    );
    assert_eq!(
        Level::parse("sse9"),
        Err(Error::UnknownLevel {
            name: "sse9".into()
        })
    );
    assert_eq!(Level::parse(" AVX2 "), Ok(Level::Avx2));
    let msg = Error::UnsupportedLevel { level: Level::Neon }.to_string();
    assert!(msg.contains("Level::available()"), "{msg}");
}

#[test]
fn levels_parse_from_their_names_and_unknown_names_are_errors() {
    use novacron_simd_kernels::{Error, Level};
    for level in [Level::Portable, Level::Avx2, Level::Avx512, Level::Neon] {
        assert_eq!(level.name().parse::<Level>(), Ok(level));
        assert_eq!(level.name().to_uppercase().parse::<Level>(), Ok(level));
    }
    assert_eq!(
        "sse9".parse::<Level>(),
        Err(Error::UnknownLevel {
            name: "sse9".into()
        })
    );
}
