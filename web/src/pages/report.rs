//! A publisher's attribution report (`GET /api/publishers/{id}/report`): one row per call of a
//! date range with its payout, paged, and the whole range as the server's CSV.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::format;
use crate::zone;

#[component]
pub fn Report(publisher_id: i64) -> impl IntoView {
    let tz = zone::browser();
    let today = zone::today(&tz).unwrap_or_default();
    let from = RwSignal::new(format::date(today - chrono::Duration::days(30)));
    let to = RwSignal::new(format::date(today));
    let form = FormState::new();
    let check = {
        let tz = tz.clone();
        move || {
            let mut c = Check::default();
            let range = c.date_range(&tz, &from.get_untracked(), &to.get_untracked());
            (range, c.into_errors())
        }
    };
    let range = RwSignal::new(check().0);
    let page = RwSignal::new(1i64);
    let rows = fetch(move || {
        let (r, page) = (range.get(), PageParams { page: page.get(), per_page: 25 });
        async move { api::report(publisher_id, r.map(|r| r.0), r.map(|r| r.1), page).await }
    });
    let check_show = check.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (r, errors) = check_show();
        if form.begin(errors) {
            form.busy.set(false);
            page.set(1);
            range.set(r);
        }
    };
    let csv = move |_| {
        let (r, errors) = check();
        if !form.begin(errors) {
            return;
        }
        spawn_local(async move {
            match api::report_csv(publisher_id, r.map(|r| r.0), r.map(|r| r.1)).await {
                Ok(text) => {
                    download(&format!("publisher-{publisher_id}-report.csv"), &text);
                    form.done("Report downloaded.");
                }
                Err(e) => form.failed(e),
            }
        });
    };
    view! {
        <section aria-labelledby="report-h" id="report">
            <h2 id="report-h">"Attribution report"</h2>
            <form class="cb-form cb-inline-form" on:submit=on_submit novalidate=true aria-label="Report range">
                <TextField label="From" name="from" kind="date" value=from errors=form.errors/>
                <TextField label="To" name="to" kind="date" value=to errors=form.errors/>
                <button type="submit">"Show"</button>
                <button type="button" class="cb-secondary" id="report-csv" disabled=move || form.busy.get() on:click=csv>"Download CSV"</button>
            </form>
            <p class="cb-help">{format!("Dates in {tz}.")}</p>
            <FormStatus state=form/>
            {move || show(rows.get(), move |data| {
                if data.items.is_empty() {
                    return view! { <Empty text="No calls in this range."/> }.into_any();
                }
                view! {
                    <div class="cb-table-wrap"><table class="cb-table" id="report-table">
                        <thead><tr>
                            <th scope="col">"Started (UTC)"</th><th scope="col">"Number"</th><th scope="col">"Caller"</th>
                            <th scope="col">"Duration"</th><th scope="col">"Qualified"</th><th scope="col">"Payout"</th>
                        </tr></thead>
                        <tbody>{data.items.into_iter().map(|r| view! {
                            <tr>
                                <td>{format::short_time(r.started_at)}</td><td>{r.number}</td><td>{r.caller}</td>
                                <td class="cb-num">{format::secs(r.duration_secs)}</td>
                                <td>{match r.qualified { Some(true) => "yes", Some(false) => "no", None => "pending" }}</td>
                                <td class="cb-num">{format::money(Some(r.payout_micros), r.currency.as_deref())}</td>
                            </tr>
                        }).collect_view()}</tbody>
                    </table></div>
                    <Pager page=page total=data.total per_page=data.per_page/>
                }.into_any()
            })}
        </section>
    }
}
