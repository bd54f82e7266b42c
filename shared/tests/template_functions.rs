//! Every Lambda function in the workspace is deployed by `template.yaml`, and every function the
//! template builds exists in the workspace.

#![allow(clippy::unwrap_used)] // reading the repository's own files

use std::collections::BTreeSet;

#[test]
fn template_and_workspace_have_the_same_functions() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let text = std::fs::read_to_string(format!("{root}/template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let deployed: BTreeSet<String> = template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|r| r["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap_or("<no Binary>").to_owned())
        .collect();
    // A function is a crate under functions/ with a main.
    let built: BTreeSet<String> = std::fs::read_dir(format!("{root}/functions"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().join("src/main.rs").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!built.is_empty());
    assert_eq!(deployed, built, "template.yaml's functions against functions/*/src/main.rs");
}
