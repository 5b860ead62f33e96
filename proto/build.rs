//! Compiles `ohjaamo/v1/*.proto` with protox (a protobuf compiler in Rust), so that
//! building needs no system `protoc`, and generates the Rust types with prost.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["ohjaamo/v1/events.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    prost_build::Config::new()
        // The reference consumer serves its replica of the ward figures as JSON: in
        // proto3's JSON mapping, whose field names are lowerCamelCase as ours are.
        .type_attribute(
            ".ohjaamo.v1.WardFigures",
            "#[derive(serde::Serialize)] #[serde(rename_all = \"camelCase\")]",
        )
        .compile_fds(descriptors)?;
    Ok(())
}
