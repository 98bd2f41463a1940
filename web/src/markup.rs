//! Pages as HTML text: the bidding pages (bidders, their test ping, the publishers' RTB ping, the
//! bidders' figures and a call's bids) are written as HTML strings put in place with
//! `inner_html`, and their forms read back from the DOM by id. A Leptos view compiles to code for
//! every element it holds; these pages cost the first load one element each, which is what kept
//! them within its budget (400 KB compressed). Every value from the server or the user goes
//! through [`esc`].
//!
//! Ids follow the other forms: an input for the API field `f` is `f-{f}`, its message `err-{f}`.
use std::collections::BTreeMap;
use std::fmt::Write;

use wasm_bindgen::JsCast;

/// Text made safe for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Field name → message (a form's own checks, or a 422's `details.fields`).
pub type Messages = BTreeMap<String, String>;

/// One labelled control of a form named `key` (see [`form_json`]), its message under it. `kind`:
/// an input type (`text`, `url`, `number`, `tel`; ending in `?`: optional, `data-opt`), `area` (a
/// textarea), `check` (a checkbox, `value` "true" when checked), or `select:` followed by
/// `value=label` pairs joined by `|`.
pub fn field(out: &mut String, label: &str, key: &str, kind: &str, value: &str, hint: &str, errors: &Messages) {
    let (id, v) = (format!("f-{key}"), esc(value));
    let error = errors
        .get(key)
        .or_else(|| errors.iter().find(|(k, _)| k.starts_with(key) && k[key.len()..].starts_with(['.', '['])).map(|(_, m)| m));
    let (kind, opt) = match kind.strip_suffix('?') {
        Some(k) => (k, " data-opt"),
        None => (kind, ""),
    };
    let attrs = format!(r#"id="{id}" name="{key}" aria-describedby="err-{key}" aria-invalid="{}"{opt}"#, error.is_some());
    if kind == "check" {
        let on = if value == "true" { " checked" } else { "" };
        let _ = write!(
            out,
            r#"<div class="cb-field cb-check"><input type="checkbox" {attrs}{on}><label for="{id}">{}</label></div>"#,
            esc(label)
        );
        return;
    }
    let _ = write!(out, r#"<div class="cb-field"><label for="{id}">{}</label>"#, esc(label));
    if kind == "area" {
        let _ = write!(out, r#"<textarea rows="4" {attrs}>{v}</textarea>"#);
    } else if let Some(opts) = kind.strip_prefix("select:") {
        let _ = write!(out, "<select {attrs}>");
        options(out, opts.split('|').filter_map(|p| p.split_once('=')).map(|(o, l)| (o.to_owned(), l.to_owned())).collect(), value);
        out.push_str("</select>");
    } else {
        let _ = write!(out, r#"<input type="{kind}" {attrs} value="{v}" placeholder="{}">"#, esc(hint));
    }
    if let Some(m) = error {
        let _ = write!(out, r#"<span class="cb-field-error" id="err-{key}">{}</span>"#, esc(m));
    }
    out.push_str("</div>");
}

/// `<option>`s, the one of `value` selected.
pub fn options(out: &mut String, opts: Vec<(String, String)>, value: &str) {
    for (o, l) in opts {
        let sel = if o == value { " selected" } else { "" };
        let _ = write!(out, r#"<option value="{}"{sel}>{}</option>"#, esc(&o), esc(&l));
    }
}

/// A form's general message: an error, or a notice that it was saved.
pub fn notice(out: &mut String, n: &Option<Result<String, String>>) {
    match n {
        Some(Err(m)) => {
            let _ = write!(out, r#"<p class="cb-error" role="alert">{}</p>"#, esc(m));
        }
        Some(Ok(m)) => {
            let _ = write!(out, r#"<p class="cb-saved" role="status">{}</p>"#, esc(m));
        }
        None => {}
    }
}

/// A table: a header row, then rows of cells already written as HTML (see [`esc`]); each row's
/// first cell is its row header and its `data-key` is `keys[i]`.
pub fn table(id: &str, heads: &[&str], rows: &[(String, Vec<String>)]) -> String {
    let mut out = format!(r#"<div class="cb-table-wrap"><table class="cb-table" id="{id}"><thead><tr>"#);
    for h in heads {
        let _ = write!(out, r#"<th scope="col">{h}</th>"#);
    }
    out.push_str("</tr></thead><tbody>");
    for (key, cells) in rows {
        let _ = write!(out, r#"<tr data-key="{}">"#, esc(key));
        for (i, c) in cells.iter().enumerate() {
            let tag = if i == 0 { r#"th scope="row""# } else { "td" };
            let _ = write!(out, "<{tag}>{c}</{}>", &tag[..2]);
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// Facts as a definition list, those without a value left out (values escaped here).
pub fn facts(id: &str, value: &str, items: &[(&str, String)]) -> String {
    let mut out = format!(r#"<dl class="cb-facts" id="{id}" data-value="{}">"#, esc(value));
    for (k, v) in items.iter().filter(|(_, v)| !v.is_empty()) {
        let _ = write!(out, "<div><dt>{k}</dt><dd>{}</dd></div>", esc(v));
    }
    out.push_str("</dl>");
    out
}

fn element(id: &str) -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

fn property(id: &str, name: &str) -> wasm_bindgen::JsValue {
    element(id).and_then(|e| js_sys::Reflect::get(&e, &name.into()).ok()).unwrap_or_default()
}

/// The named controls of the form with this id as a JSON object: a name with dots (`mapping.amount`)
/// makes nested objects; a checkbox is a boolean, or with the value `null`, `null` when checked
/// (and left out when not); the number in a number input (or a control marked `data-number`) is
/// a number; the blank text of a control
/// marked `data-opt` is left out; any other text is a string.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a form's element count
pub fn form_json(form_id: &str) -> serde_json::Value {
    use js_sys::Reflect;
    use serde_json::{Map, Value};
    let mut out = Map::new();
    let elements = element(form_id).and_then(|f| Reflect::get(&f, &"elements".into()).ok()).unwrap_or_default();
    let count = Reflect::get(&elements, &"length".into()).ok().and_then(|n| n.as_f64()).unwrap_or(0.0);
    for i in 0..count as u32 {
        let el = Reflect::get_u32(&elements, i).unwrap_or_default();
        let prop = |p: &str| Reflect::get(&el, &p.into()).unwrap_or_default();
        let (name, kind, text) = (
            prop("name").as_string().unwrap_or_default(),
            prop("type").as_string().unwrap_or_default(),
            prop("value").as_string().unwrap_or_default(),
        );
        let marked = |a: &str| el.dyn_ref::<web_sys::Element>().is_some_and(|e| e.has_attribute(a));
        let optional = marked("data-opt");
        let checked = prop("checked").as_bool() == Some(true);
        let value = match kind.as_str() {
            _ if name.is_empty() => continue,
            "checkbox" if text == "null" => {
                if checked {
                    Value::Null
                } else {
                    continue;
                }
            }
            "checkbox" => checked.into(),
            _ if optional && text.trim().is_empty() => continue,
            _ if kind == "number" || marked("data-number") => text.trim().parse::<i64>().map_or_else(|_| text.into(), Value::from),
            _ => text.into(),
        };
        let mut map = &mut out;
        let mut parts = name.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_owned(), value);
                break;
            }
            let inner = map.entry(part.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            match inner {
                Value::Object(m) => map = m,
                _ => break,
            }
        }
    }
    out.into()
}

/// The value of the input, select or textarea with this id (empty when there is none).
pub fn value(id: &str) -> String {
    property(id, "value").as_string().unwrap_or_default()
}

/// Whether the checkbox with this id is checked.
pub fn checked(id: &str) -> bool {
    property(id, "checked").as_bool().unwrap_or(false)
}

/// The `data-act` of the event's target, or with `closest`, of its closest element matching it.
fn action(ev: &web_sys::Event, closest: Option<&str>) -> Option<String> {
    let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    let target = match closest {
        Some(selector) => target.closest(selector).ok()??,
        None => target,
    };
    target.get_attribute("data-act")
}

/// What a page written as HTML does when asked: see [`page`].
pub type Act = std::rc::Rc<dyn Fn(String)>;

/// A page written as HTML: `html` its content; `act` is called with the `data-act` of a
/// `<button type="button">` clicked, of a `<form>` submitted (not sent by the browser) and of a
/// `<select>` changed.
pub fn page(id: &'static str, html: leptos::prelude::RwSignal<String>, act: Act) -> leptos::prelude::AnyView {
    use leptos::prelude::*;
    let handle = move |ev: &web_sys::Event, closest: Option<&str>| {
        if let Some(a) = action(ev, closest) {
            ev.prevent_default();
            act(a);
        }
    };
    let (on_submit, on_change) = (handle.clone(), handle.clone());
    view! {
        <section id=id inner_html=move || html.get()
            on:click=move |ev| handle(&ev, Some("button[type=button][data-act]"))
            on:submit=move |ev| on_submit(&ev, None)
            on:change=move |ev| on_change(&ev, None)></section>
    }
    .into_any()
}
