//! The methods each documented path takes, read from the OpenAPI document: a request for a
//! documented path with another method is answered 405 with `Allow` (RFC 9110), not 404.
use std::sync::OnceLock;

use actix_web::dev::ResourceDef;
use actix_web::http::Method;

struct Declared {
    path: ResourceDef,
    /// Path parameters: a fixed path (`/api/numbers/webhooks`) wins over a template that also
    /// matches it (`/api/numbers/{id}`).
    params: usize,
    methods: Vec<Method>,
    allow: String,
}

fn table() -> &'static [Declared] {
    static TABLE: OnceLock<Vec<Declared>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let doc = crate::openapi::document();
        doc.paths
            .paths
            .iter()
            .map(|(path, item)| {
                let ops = [
                    (Method::GET, item.get.is_some()),
                    (Method::POST, item.post.is_some()),
                    (Method::PUT, item.put.is_some()),
                    (Method::PATCH, item.patch.is_some()),
                    (Method::DELETE, item.delete.is_some()),
                    (Method::HEAD, item.head.is_some()),
                    (Method::OPTIONS, item.options.is_some()),
                    (Method::TRACE, item.trace.is_some()),
                ];
                let methods: Vec<Method> = ops.into_iter().filter_map(|(m, declared)| declared.then_some(m)).collect();
                let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
                Declared { path: ResourceDef::new(path.as_str()), params: path.matches('{').count(), methods, allow }
            })
            .collect()
    })
}

/// The `Allow` value when `path` is documented and `method` is not one it takes.
pub fn not_allowed(method: &Method, path: &str) -> Option<&'static str> {
    let found = table().iter().filter(|d| d.path.is_match(path)).min_by_key(|d| d.params)?;
    (!found.methods.contains(method)).then_some(found.allow.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undeclared_methods_of_documented_paths() {
        assert_eq!(not_allowed(&Method::TRACE, "/api/api-keys"), Some("GET, POST"));
        assert_eq!(not_allowed(&Method::PUT, "/api/buyers/7"), Some("GET, PATCH, DELETE"));
        assert_eq!(not_allowed(&Method::GET, "/api/webhooks/twilio/voice"), Some("POST"));
        assert_eq!(not_allowed(&Method::POST, "/healthz"), Some("GET"));
        // The fixed path, not `/api/numbers/{id}`.
        assert_eq!(not_allowed(&Method::DELETE, "/api/numbers/webhooks"), Some("GET"));
    }

    #[test]
    fn declared_methods_and_unknown_paths_are_left_alone() {
        assert_eq!(not_allowed(&Method::GET, "/api/buyers/7"), None);
        assert_eq!(not_allowed(&Method::DELETE, "/api/api-keys/3"), None);
        assert_eq!(not_allowed(&Method::TRACE, "/api/nothing-here"), None);
        assert_eq!(not_allowed(&Method::POST, "/api/buyers/7/extra"), None);
    }
}
