#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| novacron_fuzz::ml_loader(data));
