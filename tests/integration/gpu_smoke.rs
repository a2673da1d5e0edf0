//! Proves the path the gpu-compute crate takes: a real wgpu adapter (Mesa's
//! software Vulkan driver on machines without a GPU) runs a compute shader.
//!
//! A missing adapter fails the test. A developer without any driver may set
//! `NOVACRON_SKIP_GPU=1` (the README says so): the test then reports the
//! skip and passes; `.ci/run` never sets it.

use std::sync::mpsc;

const SHADER: &str = r#"
@group(0) @binding(0) var<storage, read_write> data: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3<u32>) {
    let i = id.x;
    if (i < arrayLength(&data)) {
        data[i] = data[i] * 3u + 1u;
    }
}
"#;

fn skip_allowed() -> bool {
    std::env::var("NOVACRON_SKIP_GPU").is_ok_and(|v| v == "1")
}

#[test]
fn a_wgpu_adapter_runs_a_compute_shader() {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle().with_env());
    let adapter =
        match pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        {
            Ok(adapter) => adapter,
            Err(e) => {
                assert!(
                    skip_allowed(),
                    "no wgpu adapter was found ({e}); install Debian's mesa-vulkan-drivers \
                     and libvulkan1, or set NOVACRON_SKIP_GPU=1 to skip this test"
                );
                eprintln!("skipping as NOVACRON_SKIP_GPU=1 asks: no wgpu adapter ({e})");
                return;
            }
        };
    let info = adapter.get_info();
    eprintln!(
        "adapter: {} ({:?}, {:?})",
        info.name, info.backend, info.device_type
    );

    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))
            .expect("request device");
    let input: Vec<u32> = (0..10_000u32).collect();
    let bytes = (input.len() * std::mem::size_of::<u32>()) as u64;
    let storage = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("data"),
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&storage, 0, bytemuck::cast_slice(&input));
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("staging"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("triple_plus_one"),
        source: wgpu::ShaderSource::Wgsl(SHADER.into()),
    });
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("triple_plus_one"),
        layout: None,
        module: &module,
        entry_point: Some("main"),
        compilation_options: Default::default(),
        cache: None,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: storage.as_entire_binding(),
        }],
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(&pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups((input.len() as u32).div_ceil(64), 1, 1);
    }
    encoder.copy_buffer_to_buffer(&storage, 0, &staging, 0, bytes);
    queue.submit([encoder.finish()]);

    let slice = staging.slice(..);
    let (tx, rx) = mpsc::channel();
    slice.map_async(wgpu::MapMode::Read, move |r| {
        let _ = tx.send(r);
    });
    device
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("poll");
    rx.recv().expect("map callback ran").expect("map succeeded");
    let view = slice.get_mapped_range().expect("mapped range");
    let output: &[u32] = bytemuck::cast_slice(&view);
    let expected: Vec<u32> = input.iter().map(|x| x * 3 + 1).collect();
    assert_eq!(output, expected.as_slice());
}
