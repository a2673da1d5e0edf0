//! Integration tests of the workspace: one binary (`autotests = false`).

mod gpu_smoke;
mod workspace;
