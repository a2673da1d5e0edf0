#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| novacron_fuzz::qubo_placement(data));
