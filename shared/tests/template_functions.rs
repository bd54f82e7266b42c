//! Every Lambda function in the workspace is deployed by `template.yaml`, and every function the
//! template builds exists in the workspace.

#![allow(clippy::unwrap_used)] // reading the repository's own files

use std::collections::BTreeSet;

#[test]
fn template_and_workspace_have_the_same_functions() {
    let root = "..";
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

/// API Gateway's choice for a path: an exact route, else the longest greedy `{proxy+}` prefix.
fn routed_to<'t>(routes: &'t [(String, String)], path: &str) -> Option<&'t str> {
    let concrete = path.replace('{', "x").replace('}', "");
    routes.iter().find(|(route, _)| route == path).map(|(_, f)| f.as_str()).or_else(|| {
        routes
            .iter()
            .filter_map(|(route, f)| Some((route.strip_suffix("{proxy+}")?, f)))
            .filter(|(prefix, _)| concrete.starts_with(prefix))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, f)| f.as_str())
    })
}

#[test]
fn every_api_path_reaches_the_function_of_its_family_with_only_what_it_needs() {
    let root = "..";
    let text = std::fs::read_to_string(format!("{root}/template.yaml")).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let mut routes = Vec::new();
    let mut functions = std::collections::BTreeMap::new();
    for resource in template["Resources"].as_mapping().unwrap().values() {
        let Some(family) = resource["Properties"]["Environment"]["Variables"]["API_FAMILY"].as_str() else { continue };
        functions.insert(family.to_owned(), resource.clone());
        for event in resource["Properties"]["Events"].as_mapping().unwrap().values() {
            routes.push((event["Properties"]["Path"].as_str().unwrap().to_owned(), family.to_owned()));
        }
    }
    for family in shared::http::api::Family::ALL {
        let function = &functions[family.name()];
        for path in family.paths() {
            assert_eq!(routed_to(&routes, &path), Some(family.name()), "{path} goes to the {family} function");
        }
        let variables = &function["Properties"]["Environment"]["Variables"];
        let policies = serde_yaml::to_string(&function["Properties"]["Policies"]).unwrap();
        let token = &variables["TELEGRAM_BOT_TOKEN_PARAMETER"];
        let reaches =
            token.is_string() && policies.contains("ManageSchedulesPolicy") && policies.contains("ReadBotTokenPolicy");
        let neither =
            token.is_null() && !policies.contains("ManageSchedulesPolicy") && !policies.contains("ReadBotTokenPolicy");
        assert!(if family.reaches_out() { reaches } else { neither }, "{family}: {policies}");
    }
    assert_eq!(functions.len(), shared::http::api::Family::ALL.len());
    // The catch-all of one family must not swallow another's paths.
    assert_eq!(routed_to(&routes, "/api/v1/processes/{id}/advice"), Some("processes"));
    assert_eq!(routed_to(&routes, "/api/v1/nothing"), None);
}
