//! The OpenAPI document as a contract the served responses are checked against: a response
//! is resolved to its operation (method + path template), its status must be documented, its
//! content type must be the documented one, and a JSON body must validate against the
//! documented schema (JSON Schema 2020-12 with formats, `$ref`s resolved in the document).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

pub struct Contract {
    doc: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    /// `METHOD /template` of every operation whose response was checked, for coverage.
    pub checked: Mutex<BTreeSet<String>>,
}

/// The document the code generates (identical to the committed one: a test checks that).
pub fn contract() -> &'static Contract {
    static C: OnceLock<Contract> = OnceLock::new();
    C.get_or_init(|| Contract {
        doc: serde_json::from_str(&groupwork::openapi::document_json()).unwrap(),
        validators: Mutex::new(HashMap::new()),
        checked: Mutex::new(BTreeSet::new()),
    })
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

impl Contract {
    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// Every operation of the document as `METHOD /template`.
    pub fn operations(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for m in METHODS {
                if item.get(m).is_some() {
                    out.insert(format!("{} {path}", m.to_uppercase()));
                }
            }
        }
        out
    }

    /// The documented path template `path` (without `/api/v1` and query) matches, preferring
    /// literal segments over parameters.
    pub fn template(&self, method: &str, path: &str) -> Option<String> {
        let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
        let method = method.to_lowercase();
        self.doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, item)| item.get(&method).is_some())
            .filter_map(|(template, _)| {
                let tsegs: Vec<&str> = template.split('/').collect();
                if tsegs.len() != segs.len() {
                    return None;
                }
                let mut params = 0;
                for (t, s) in tsegs.iter().zip(&segs) {
                    if t.starts_with('{') {
                        params += 1;
                    } else if t != s {
                        return None;
                    }
                }
                Some((params, template.clone()))
            })
            .min()
            .map(|(_, t)| t)
    }

    fn validator(&self, key: &str, schema: &Value) -> Arc<jsonschema::Validator> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        // The schema is checked with the document's components beside it, so that
        // `#/components/schemas/…` resolves within the same root.
        let root = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let v = Arc::new(
            jsonschema::options()
                .should_validate_formats(true)
                .build(&root)
                .unwrap_or_else(|e| panic!("schema of {key} does not compile: {e}")),
        );
        cache.insert(key.to_string(), v.clone());
        v
    }

    /// Checks one served response. `path` is the request path with or without `/api/v1`;
    /// responses of paths outside the document (health, the document itself, unknown routes)
    /// are not operations and pass. Returns the error in words.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        text: &str,
    ) -> Result<(), String> {
        let Some(api_path) = path.strip_prefix("/api/v1") else {
            return Ok(());
        };
        let api_path = api_path.split('?').next().unwrap_or_default();
        let Some(template) = self.template(method, api_path) else {
            return Ok(());
        };
        let op_name = format!("{} {template}", method.to_uppercase());
        let op = &self.doc["paths"][&template][method.to_lowercase()];
        let responses = &op["responses"];
        let documented = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                format!(
                    "{op_name}: status {status} is not documented (documented: {:?}); body: {text}",
                    responses.as_object().unwrap().keys().collect::<Vec<_>>()
                )
            })?;
        self.checked.lock().unwrap().insert(op_name.clone());
        let media = content_type
            .map(|c| c.split(';').next().unwrap_or_default().trim().to_string())
            .unwrap_or_default();
        let Some(content) = documented.get("content").and_then(Value::as_object) else {
            return if text.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "{op_name} {status}: documented without a body, served {media}: {text}"
                ))
            };
        };
        let Some(entry) = content.get(&media) else {
            return Err(format!(
                "{op_name} {status}: served {media:?}, documented {:?}",
                content.keys().collect::<Vec<_>>()
            ));
        };
        if !media.ends_with("json") {
            return Ok(());
        }
        let schema = entry
            .get("schema")
            .ok_or_else(|| format!("{op_name} {status}: {media} has no schema"))?;
        let body: Value = serde_json::from_str(text)
            .map_err(|e| format!("{op_name} {status}: body is not JSON ({e}): {text}"))?;
        let validator = self.validator(&format!("{op_name} {status} {media}"), schema);
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("at {}: {}", e.instance_path(), e))
            .take(5)
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{op_name} {status}: the body does not conform to its schema:\n  {}\nbody: {}",
                errors.join("\n  "),
                &text[..text.len().min(2000)]
            ))
        }
    }
}
