//! The blocklist: caller numbers and prefixes blocked before any buyer rings, on every campaign or
//! one. The list with filters, one form to add or edit an entry, delete with a confirmation, CSV
//! upload through the import route (all or nothing: every bad row of a refused file is listed)
//! and the filtered list as the server's CSV.
use std::collections::BTreeMap;

use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::format;
use crate::session;

/// The scope filter's value: `""` every entry, `global`, or a campaign id.
fn scope_filter(scope: &str, q: &str) -> BlocklistFilter {
    BlocklistFilter { campaign_id: scope.parse().ok(), global: (scope == "global").then_some(true), q: opt_text(q) }
}

fn kind_options() -> Vec<(String, String)> {
    [("", "Guess from the number"), ("exact", "Exact number"), ("prefix", "Prefix (every number starting with it)")]
        .map(|(v, l)| (v.to_owned(), l.to_owned()))
        .to_vec()
}

/// `line 12: number` → 12, for listing an import's problems in file order.
fn line_of(field: &str) -> u64 {
    field.strip_prefix("line ").and_then(|r| r.split(':').next()).and_then(|n| n.trim().parse().ok()).unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM` for an `<input type=datetime-local>` (UTC).
fn local_input(t: chrono::DateTime<chrono::Utc>) -> String {
    format::short_time(t).replace(' ', "T")[..16].to_owned()
}

#[component]
pub fn Blocklist() -> impl IntoView {
    let page = RwSignal::new(1i64);
    let scope = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let tick = RwSignal::new(0u32);
    let names = fetch(Names::load);
    let list = fetch(move || {
        tick.track();
        let filter = scope_filter(&scope.get(), &q.get());
        let page = PageParams { page: page.get(), per_page: 50 };
        async move { api::blocklist(page, &filter).await }
    });
    let reload = move || tick.update(|t| *t += 1);
    let editing = RwSignal::new(None::<BlocklistEntry>);
    let confirming = RwSignal::new(None::<i64>);
    let notice = FormState::new();
    let writable = session::can_write();
    let scope_options = Signal::derive(move || {
        let mut v = vec![(String::new(), "Every entry".to_owned()), ("global".to_owned(), "Every campaign (global entries)".to_owned())];
        if let Some(n) = names.get() {
            v.extend(n.campaigns.iter().map(|(id, name)| (id.to_string(), format!("Campaign: {name}"))));
        }
        v
    });
    let export = move |_| {
        let filter = scope_filter(&scope.get_untracked(), &q.get_untracked());
        notice.begin(BTreeMap::new());
        spawn_local(async move {
            match api::export_blocklist(&filter).await {
                Ok(text) => {
                    download("blocklist.csv", &text);
                    notice.done("Blocklist downloaded.");
                }
                Err(e) => notice.failed(e),
            }
        });
    };
    let remove = move |e: BlocklistEntry| {
        notice.begin(BTreeMap::new());
        spawn_local(async move {
            match api::delete_blocklist_entry(e.id).await {
                Ok(()) => {
                    confirming.set(None);
                    if editing.get_untracked().is_some_and(|x| x.id == e.id) {
                        editing.set(None);
                    }
                    notice.done(format!("{} removed from the blocklist.", e.number));
                    reload();
                }
                Err(err) => notice.failed(err),
            }
        });
    };
    view! {
        <section id="page-blocklist">
            <div class="cb-title-row">
                <h1>"Blocklist"</h1>
                <button type="button" class="cb-secondary" id="blocklist-export" on:click=export>"Export CSV"</button>
            </div>
            <p class="cb-help">"Callers whose number matches an entry are blocked before any buyer rings: rejected unanswered, or told the campaign's block message. An entry applies to every campaign or to one, until it expires."</p>
            <form class="cb-filters" aria-label="Filter the blocklist" on:submit=|ev| ev.prevent_default()>
                <div class="cb-field">
                    <label for="filter-scope">"Applies to"</label>
                    <select id="filter-scope" on:change=move |ev| { scope.set(event_target_value(&ev)); page.set(1); }>
                        {move || scope_options.get().into_iter().map(|(v, l)| { let sel = scope.get_untracked() == v; view! { <option value=v selected=sel>{l}</option> } }).collect_view()}
                    </select>
                </div>
                <div class="cb-field">
                    <label for="filter-q">"Number or note contains"</label>
                    <input id="filter-q" type="search" prop:value=move || q.get() on:change=move |ev| { q.set(event_target_value(&ev)); page.set(1); }/>
                </div>
            </form>
            <FormStatus state=notice/>
            {move || show(list.get(), move |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No blocklist entries match."/> }.into_any();
                }
                let names = names.get().unwrap_or_default();
                let now = session::now();
                let rows = data.items.clone().into_iter().map(|e| {
                    let expired = e.expires_at.is_some_and(|t| t <= now);
                    let campaign = match e.campaign_id { None => "Every campaign".to_owned(), id => names.campaign(id) };
                    let number = e.number.clone();
                    let (edit_entry, del_entry) = (e.clone(), e.clone());
                    let id = e.id;
                    view! {
                        <tr data-number=e.number.clone()>
                            <td>{e.number.clone()}</td>
                            <td>{e.kind.as_str()}</td>
                            <td>{campaign}</td>
                            <td class="cb-wrap">{e.note.clone().unwrap_or_default()}</td>
                            <td>{format::opt_time(e.expires_at)} {expired.then(|| view! { " " <Tag text="expired"/> })}</td>
                            {writable.then(|| view! {
                                <td class="cb-actions">
                                    {move || if confirming.get() == Some(id) {
                                        let del_entry = del_entry.clone();
                                        view! {
                                            <button type="button" class="cb-danger" aria-label=format!("Confirm removing {number}") on:click=move |_| remove(del_entry.clone())>"Remove"</button>
                                            <button type="button" class="cb-secondary" on:click=move |_| confirming.set(None)>"Keep"</button>
                                        }.into_any()
                                    } else {
                                        let edit_entry = edit_entry.clone();
                                        view! {
                                            <button type="button" class="cb-secondary" aria-label=format!("Edit {number}") on:click=move |_| editing.set(Some(edit_entry.clone()))>"Edit"</button>
                                            <button type="button" class="cb-secondary" aria-label=format!("Delete {number}") on:click=move |_| confirming.set(Some(id))>"Delete"</button>
                                        }.into_any()
                                    }}
                                </td>
                            })}
                        </tr>
                    }
                }).collect_view();
                view! {
                    <div class="cb-table-wrap"><table class="cb-table" id="blocklist-table">
                        <thead><tr>
                            <th scope="col">"Number"</th><th scope="col">"Kind"</th><th scope="col">"Applies to"</th>
                            <th scope="col">"Note"</th><th scope="col">"Expires (UTC)"</th>
                            {writable.then(|| view! { <th scope="col">"Actions"</th> })}
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table></div>
                    <Pager page=page total=data.total per_page=data.per_page/>
                }.into_any()
            })}
            {writable.then(|| view! {
                {move || {
                    // A new form for each entry edited (and a blank one after saving).
                    let entry = editing.get();
                    view! { <EntryForm entry=entry names=names editing=editing notice=notice on_saved=reload/> }
                }}
                <ImportForm on_done=reload/>
            })}
        </section>
    }
}

#[component]
fn EntryForm(
    entry: Option<BlocklistEntry>,
    names: Fetched<Names>,
    editing: RwSignal<Option<BlocklistEntry>>,
    /// The page's message line: a saved edit replaces this form, so its notice goes there.
    notice: FormState,
    on_saved: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let id = entry.as_ref().map(|e| e.id);
    let e = entry.as_ref();
    let number = RwSignal::new(e.map(|e| e.number.clone()).unwrap_or_default());
    let kind = RwSignal::new(e.map(|e| e.kind.as_str().to_owned()).unwrap_or_default());
    let campaign = RwSignal::new(e.and_then(|e| e.campaign_id).map(|c| c.to_string()).unwrap_or_default());
    let note = RwSignal::new(e.and_then(|e| e.note.clone()).unwrap_or_default());
    let expires = RwSignal::new(e.and_then(|e| e.expires_at).map(local_input).unwrap_or_default());
    let form = FormState::new();
    let campaign_options = Signal::derive(move || {
        let mut v = vec![(String::new(), "Every campaign".to_owned())];
        if let Some(n) = names.get() {
            v.extend(n.campaigns.iter().map(|(id, name)| (id.to_string(), name.clone())));
        }
        v
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let number_v = c.required("number", &number.get_untracked());
        let digits = number_v.strip_prefix('+').unwrap_or("");
        let digits = digits.strip_suffix('*').unwrap_or(digits);
        if !number_v.is_empty() && (digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit())) {
            c.fail("number", "must be + and 1 to 15 digits, e.g. +14155550100 or the prefix +1415");
        }
        let kind_v = BlockKind::parse(&kind.get_untracked());
        let campaign_id = campaign.get_untracked().parse::<i64>().ok();
        let note_v = opt_text(&note.get_untracked());
        let expires_at = opt_text(&expires.get_untracked()).and_then(|s| {
            let t = format::parse_datetime_utc(&s);
            if t.is_none() {
                c.fail("expires_at", "must be a date and time");
            }
            t
        });
        if !form.begin(c.into_errors()) {
            return;
        }
        spawn_local(async move {
            let res = match id {
                Some(id) => {
                    let patch = BlocklistPatch {
                        number: Some(number_v),
                        kind: kind_v,
                        campaign_id: Some(campaign_id),
                        note: Some(note_v),
                        expires_at: Some(expires_at),
                    };
                    api::update_blocklist_entry(id, &patch).await
                }
                None => {
                    let new = NewBlocklistEntry { number: number_v, kind: kind_v, campaign_id, note: note_v, expires_at };
                    api::create_blocklist_entry(&new).await
                }
            };
            match res {
                Ok(saved) => {
                    let verb = if id.is_some() { "saved" } else { "added" };
                    notice.done(format!("{} ({}) {verb}.", saved.number, saved.kind.as_str()));
                    on_saved();
                    if id.is_some() {
                        // Replaces this form (and drops its signals): nothing of it is used after.
                        editing.set(None);
                    } else {
                        form.done("");
                        form.saved.set(None);
                        number.set(String::new());
                        note.set(String::new());
                        expires.set(String::new());
                        kind.set(String::new());
                    }
                }
                Err(e) => form.failed(e),
            }
        });
    };
    let errors = form.errors;
    let title = match &entry {
        Some(e) => format!("Edit {}", e.number),
        None => "Add an entry".to_owned(),
    };
    view! {
        <form class="cb-form" on:submit=on_submit novalidate=true id="blocklist-form" aria-labelledby="blocklist-form-h">
            <h2 id="blocklist-form-h">{title}</h2>
            <div class="cb-grid">
                <TextField label="Number or prefix" name="number" value=number errors=errors required=true placeholder="+14155550100 or +1415*"
                    help="E.164; a trailing * or fewer than 8 digits makes a prefix"/>
                <SelectField label="Kind" name="kind" value=kind errors=errors options=Signal::derive(kind_options)/>
                <SelectField label="Applies to" name="campaign_id" value=campaign errors=errors options=campaign_options/>
                <TextField label="Note" name="note" value=note errors=errors/>
                <TextField label="Expires (UTC)" name="expires_at" kind="datetime-local" value=expires errors=errors help="Blank: never"/>
            </div>
            <FormStatus state=form/>
            <div class="cb-row">
                <button type="submit" disabled=move || form.busy.get()>{if id.is_some() { "Save entry" } else { "Add to blocklist" }}</button>
                {id.is_some().then(|| view! { <button type="button" class="cb-secondary" on:click=move |_| editing.set(None)>"Cancel"</button> })}
            </div>
        </form>
    }
}

/// Upload of a CSV file to the import route. The file goes to the server as it is (the page
/// does not read it); a refused file's problems are listed by line.
#[component]
fn ImportForm(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let form = FormState::new();
    let problems = RwSignal::new(Vec::<(String, String)>::new());
    let input = NodeRef::<leptos::html::Input>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        problems.set(Vec::new());
        let file = input.get_untracked().and_then(|i| i.files()).and_then(|f| f.get(0));
        let mut c = Check::default();
        if file.is_none() {
            c.fail("file", "choose a CSV file");
        }
        if !form.begin(c.into_errors()) {
            return;
        }
        let Some(file) = file else { return };
        spawn_local(async move {
            match api::import_blocklist(file.into()).await {
                Ok(r) => {
                    form.done(format!("Imported {} entries.", r.created));
                    if let Some(i) = input.get_untracked() {
                        i.set_value("");
                    }
                    on_done();
                }
                Err(e) => {
                    let mut rows: Vec<(String, String)> = e.fields().into_iter().collect();
                    rows.sort_by_key(|(f, _)| line_of(f));
                    let n = rows.len();
                    form.failed(e);
                    form.errors.set(BTreeMap::new());
                    if n > 0 {
                        form.message.set(Some(format!("Nothing was imported: {n} problem{} in the file.", if n == 1 { "" } else { "s" })));
                    }
                    problems.set(rows);
                }
            }
        });
    };
    view! {
        <form class="cb-form" on:submit=on_submit novalidate=true id="blocklist-import" aria-labelledby="import-h">
            <h2 id="import-h">"Import a CSV file"</h2>
            <p class="cb-help">
                "A header row, then one entry per row: columns " <code>"number,kind,campaign_id,note,expires_at"</code>
                " (only number is required; up to 10,000 rows). All or nothing: when any row is wrong, nothing is added."
            </p>
            <div class="cb-field">
                <label for="f-file">"CSV file"</label>
                <input id="f-file" type="file" accept=".csv,text/csv" node_ref=input aria-describedby="err-file"/>
                {move || form.errors.with(|e| e.get("file").cloned()).map(|m| view! { <span class="cb-field-error" id="err-file">{m}</span> })}
            </div>
            <FormStatus state=form/>
            {move || {
                let rows = problems.get();
                (!rows.is_empty()).then(|| view! {
                    <ul class="cb-list cb-problems" id="import-errors">
                        {rows.into_iter().map(|(f, m)| view! { <li><strong>{f}</strong>": "{m}</li> }).collect_view()}
                    </ul>
                })
            }}
            <button type="submit" disabled=move || form.busy.get()>"Upload CSV"</button>
        </form>
    }
}
