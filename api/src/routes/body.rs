//! The extractor of every JSON request body: [`actix_web::web::Json`] (so the app's `JsonConfig`
//! still sets the size limit, the content type and the error answer) that takes only a JSON object
//! at the top. serde reads a struct from an array too (`[null, null]` is a `PhoneNumberPatch`
//! whose fields are all absent); here anything but an object is a 400 `invalid_json`, at every
//! depth, and a whole number written as a float (`843.0`) is read as the integer it is
//! ([`strict`]), as the OpenAPI document's `integer` says.
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

mod strict;

/// A JSON object body read as `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Json::<Object<T>>::from_request(req, payload);
        Box::pin(async move { Ok(Json(body.await?.into_inner().0)) })
    }
}

/// `T`, read only from a map (a JSON object).
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OnlyMap<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> Visitor<'de> for OnlyMap<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(strict::Map(map)))
            }
        }

        deserializer.deserialize_map(OnlyMap(PhantomData)).map(Object)
    }
}

#[cfg(test)]
mod tests {
    use super::Object;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Patch {
        name: Option<String>,
        limit: Option<i64>,
    }

    fn read(text: &str) -> Result<Patch, String> {
        serde_json::from_str::<Object<Patch>>(text).map(|o| o.0).map_err(|e| e.to_string())
    }

    #[test]
    fn objects_are_read_as_the_struct() {
        assert_eq!(read(r#"{"name": "a", "limit": 2}"#), Ok(Patch { name: Some("a".into()), limit: Some(2) }));
        assert_eq!(read("{}"), Ok(Patch { name: None, limit: None }));
        assert_eq!(read(r#"{"limit": "x"}"#).expect_err("a string limit"), "invalid type: string \"x\", expected i64 at line 1 column 13");
    }

    #[test]
    fn nested_values_are_read_strictly() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Outer {
            inner: Option<Patch>,
        }
        let read = |text: &str| serde_json::from_str::<Object<Outer>>(text).map(|o| o.0).map_err(|e| e.to_string());
        assert_eq!(read(r#"{"inner": {"limit": 843.0}}"#), Ok(Outer { inner: Some(Patch { name: None, limit: Some(843) }) }));
        assert!(read(r#"{"inner": [null, null]}"#).expect_err("an array").contains("expected struct Patch"));
    }

    #[test]
    fn anything_else_at_the_top_is_refused() {
        // serde alone reads these as a `Patch` with both fields absent.
        assert!(serde_json::from_str::<Patch>("[null, null]").is_ok());
        for text in ["[null, null]", "[]", "null", "1", "\"x\"", "true"] {
            let e = read(text).expect_err("refused");
            assert!(e.contains("expected a JSON object"), "{text}: {e}");
        }
    }
}
