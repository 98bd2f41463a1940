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

/// One labelled control of a form, its message under it. `kind`: an input type (`text`, `url`,
/// `number`, `tel`), `area` (a textarea), `check` (a checkbox, `value` "true" when checked), or
/// `select:` followed by `value=label` pairs joined by `|`.
pub fn field(out: &mut String, label: &str, key: &str, kind: &str, value: &str, hint: &str, errors: &Messages) {
    let (id, v) = (format!("f-{key}"), esc(value));
    let error = errors.get(key).or_else(|| errors.iter().find(|(k, _)| k.starts_with(key) && k[key.len()..].starts_with(['.', '['])).map(|(_, m)| m));
    let attrs = format!(r#"id="{id}" name="{key}" aria-describedby="err-{key}" aria-invalid="{}""#, error.is_some());
    if kind == "check" {
        let on = if value == "true" { " checked" } else { "" };
        let _ = write!(out, r#"<div class="cb-field cb-check"><input type="checkbox" {attrs}{on}><label for="{id}">{}</label></div>"#, esc(label));
        return;
    }
    let _ = write!(out, r#"<div class="cb-field"><label for="{id}">{}</label>"#, esc(label));
    if kind == "area" {
        let _ = write!(out, r#"<textarea rows="4" {attrs}>{v}</textarea>"#);
    } else if let Some(opts) = kind.strip_prefix("select:") {
        let _ = write!(out, "<select {attrs}>");
        for (o, l) in opts.split('|').filter_map(|p| p.split_once('=')) {
            let sel = if o == value { " selected" } else { "" };
            let _ = write!(out, r#"<option value="{o}"{sel}>{l}</option>"#);
        }
        out.push_str("</select>");
    } else {
        let _ = write!(out, r#"<input type="{kind}" {attrs} value="{v}" placeholder="{}">"#, esc(hint));
    }
    if let Some(m) = error {
        let _ = write!(out, r#"<span class="cb-field-error" id="err-{key}">{}</span>"#, esc(m));
    }
    out.push_str("</div>");
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

/// The value of the input, select or textarea with this id (empty when there is none).
pub fn value(id: &str) -> String {
    property(id, "value").as_string().unwrap_or_default()
}

/// Whether the checkbox with this id is checked.
pub fn checked(id: &str) -> bool {
    property(id, "checked").as_bool().unwrap_or(false)
}

/// The `data-act` of the element clicked (or of its closest parent having one).
pub fn action(ev: &leptos::ev::MouseEvent) -> Option<String> {
    let target = ev.target()?.dyn_into::<web_sys::Element>().ok()?;
    target.closest("[data-act]").ok()??.get_attribute("data-act")
}
