//! Analytics: a date range in a time zone, calls per hour / day / week as a chart, and the
//! figures broken down by campaign, buyer, publisher, number, a call tag's value or the
//! screening rule that blocked the call, as a chart and a table that downloads as CSV (built here
//! from the same figures); blocked calls counted by rule when there are any; a chosen campaign's
//! IVR drop-off per question; each bidder's pings, bids, wins and revenue.
use std::collections::BTreeMap;

use callbroker_wire::*;
use chrono::{Datelike, Duration, NaiveDate};
use leptos::prelude::*;

use crate::api;
use crate::components::*;
use crate::format;
use crate::json;
use crate::zone;

fn bucket_options() -> Vec<(String, String)> {
    [("hour", "Hour"), ("day", "Day"), ("week", "Week")].map(|(v, l)| (v.to_owned(), l.to_owned())).to_vec()
}

fn group_options() -> Vec<(String, String)> {
    [
        ("campaign", "Campaign"),
        ("buyer", "Buyer"),
        ("publisher", "Publisher"),
        ("number", "Number"),
        ("tag", "Tag value"),
        ("blocked_by", "Block rule"),
    ]
    .map(|(v, l)| (v.to_owned(), l.to_owned()))
    .to_vec()
}

fn parse_bucket(s: &str) -> Bucket {
    match s {
        "hour" => Bucket::Hour,
        "week" => Bucket::Week,
        _ => Bucket::Day,
    }
}

fn parse_group(s: &str) -> GroupBy {
    match s {
        "buyer" => GroupBy::Buyer,
        "publisher" => GroupBy::Publisher,
        "number" => GroupBy::Number,
        "tag" => GroupBy::Tag,
        "blocked_by" => GroupBy::BlockedBy,
        _ => GroupBy::Campaign,
    }
}

/// What was asked, with the days (for the chart's empty buckets).
#[derive(Clone, PartialEq)]
struct Ask {
    query: AnalyticsQuery,
    first: NaiveDate,
    last: NaiveDate,
}

#[derive(Clone)]
struct Data {
    summary: Summary,
    series: Timeseries,
    numbers: BTreeMap<i64, String>,
    /// Blocked calls per rule (asked only when some were blocked).
    blocked: Vec<(String, i64)>,
    /// The bidders' figures, an HTML table (empty when they could not be had).
    bidders: String,
}

#[component]
pub fn Analytics() -> impl IntoView {
    let tz_default = zone::browser();
    let today = zone::today(&tz_default).unwrap_or_default();
    let from = RwSignal::new(format::date(today - Duration::days(6)));
    let to = RwSignal::new(format::date(today));
    let tz = RwSignal::new(tz_default);
    let bucket = RwSignal::new("day".to_owned());
    let group = RwSignal::new("campaign".to_owned());
    let tag = RwSignal::new(String::new());
    let form = FormState::new();
    let check = move || {
        let mut c = Check::default();
        let (tz_v, from_v, to_v) = (tz.get_untracked().trim().to_owned(), from.get_untracked(), to.get_untracked());
        let range = c.date_range(&tz_v, &from_v, &to_v);
        let group_by = parse_group(&group.get_untracked());
        let tag_v = (group_by == GroupBy::Tag).then(|| c.required("tag", &tag.get_untracked()));
        let ask = range.and_then(|(f, t)| {
            Some(Ask {
                query: AnalyticsQuery {
                    from: Some(f),
                    to: Some(t),
                    tz: Some(tz_v),
                    group_by: Some(group_by),
                    bucket: Some(parse_bucket(&bucket.get_untracked())),
                    tag: tag_v,
                    ..Default::default()
                },
                first: format::parse_date(&from_v)?,
                last: format::parse_date(&to_v)?,
            })
        });
        (ask, c.into_errors())
    };
    let asked = RwSignal::new(check().0);
    let names = fetch(Names::load);
    let data = fetch(move || {
        let ask = asked.get();
        async move {
            let Some(ask) = ask else { return Ok(None) };
            let summary = api::summary(&ask.query).await?;
            let series = api::timeseries(&AnalyticsQuery { group_by: None, tag: None, ..ask.query.clone() }).await?;
            let numbers = if ask.query.group_by == Some(GroupBy::Number) {
                api::numbers(api::ALL, &PhoneNumberFilter::default()).await?.items.into_iter().map(|n| (n.id, n.number)).collect()
            } else {
                BTreeMap::new()
            };
            let blocked = if summary.total.blocked == 0 {
                vec![]
            } else {
                let by_rule = if ask.query.group_by == Some(GroupBy::BlockedBy) {
                    summary.groups.clone()
                } else {
                    api::summary(&AnalyticsQuery { group_by: Some(GroupBy::BlockedBy), tag: None, ..ask.query.clone() }).await?.groups
                };
                by_rule.into_iter().filter_map(|g| Some((g.key?, g.metrics.blocked))).filter(|(_, n)| *n > 0).collect()
            };
            let bidders = api::bidder_stats(ask.query.from, ask.query.to).await.map(|b| bidder_table(&b)).unwrap_or_default();
            Ok::<_, api::ApiError>(Some((ask, Data { summary, series, numbers, blocked, bidders })))
        }
    });
    // The API's field errors (e.g. hour buckets over too long a range) go on the fields.
    Effect::new(move |_| {
        if let Some(Err(e)) = data.get() {
            form.errors.set(e.fields());
        }
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (ask, errors) = check();
        if form.begin(errors) {
            form.busy.set(false);
            asked.set(ask);
        }
    };
    view! {
        <section id="page-analytics">
            <h1>"Analytics"</h1>
            <form class="cb-form" on:submit=on_submit novalidate=true aria-label="Analytics range" id="analytics-form">
                <div class="cb-grid">
                    <TextField label="From" name="from" kind="date" value=from errors=form.errors/>
                    <TextField label="To (included)" name="to" kind="date" value=to errors=form.errors/>
                    <TextField label="Time zone" name="tz" value=tz errors=form.errors help="IANA name, e.g. America/New_York"/>
                    <SelectField label="Per" name="bucket" value=bucket errors=form.errors options=Signal::derive(bucket_options)/>
                    <SelectField label="Break down by" name="group_by" value=group errors=form.errors options=Signal::derive(group_options)/>
                    <Show when=move || group.get() == "tag">
                        <TextField label="Tag name" name="tag" value=tag errors=form.errors placeholder="FromState" help="Calls grouped by this tag's value"/>
                    </Show>
                </div>
                <FormStatus state=form/>
                <button type="submit">"Show"</button>
            </form>
            {move || show(data.get(), move |d| match d {
                None => view! { <Empty text="Choose a range to see figures."/> }.into_any(),
                Some((ask, d)) => view! { <Figures ask=ask data=d names=names.get().unwrap_or_default()/> }.into_any(),
            })}
            <IvrDropOff asked=asked names=names/>
        </section>
    }
}

/// The bucket keys from `first` to `last` (as `local_start` begins: `YYYY-MM-DD`, with `THH` for
/// hours; weeks start on Monday) and their labels.
fn buckets(bucket: Bucket, first: NaiveDate, last: NaiveDate) -> Vec<(String, String)> {
    let mut out = vec![];
    let mut day = match bucket {
        Bucket::Week => first - Duration::days(first.weekday().num_days_from_monday() as i64),
        _ => first,
    };
    let step = if bucket == Bucket::Week { 7 } else { 1 };
    while day <= last && out.len() < 2000 {
        let d = format::date(day);
        let short = d[5..].to_owned();
        if bucket == Bucket::Hour {
            out.extend((0..24).map(|h| (format!("{d}T{h:02}"), format!("{short} {h:02}h"))));
        } else {
            out.push((d, short));
        }
        day += Duration::days(step);
    }
    out
}

/// One row of the breakdown: label and figures, as table cells and CSV fields.
fn cells(m: &Metrics, cur: Option<&str>) -> [String; 11] {
    [
        m.calls.to_string(),
        m.blocked.to_string(),
        m.answered.to_string(),
        m.qualified.to_string(),
        format::percent(m.conversion_rate),
        format::hms(m.talk_secs_total),
        format::money(m.revenue_micros, cur),
        format::money(Some(m.payout_micros), cur),
        format::money(m.cost_micros, cur),
        format::money(m.profit_micros, cur),
        format::opt_percent(m.fill_rate),
    ]
}

const HEADS: [&str; 11] =
    ["Calls", "Blocked", "Answered", "Qualified", "Conversion", "Talk time", "Revenue", "Payout", "Cost", "Profit", "Fill rate"];

#[component]
fn Figures(ask: Ask, data: Data, names: Names) -> impl IntoView {
    let Data { summary, series, numbers, blocked, bidders } = data;
    let group = ask.query.group_by.unwrap_or(GroupBy::Campaign);
    let bucket = ask.query.bucket.unwrap_or_default();
    let empty_map = BTreeMap::new();
    let (group_label, map) = match group {
        GroupBy::Campaign => ("Campaign".to_owned(), &names.campaigns),
        GroupBy::Buyer => ("Buyer".to_owned(), &names.buyers),
        GroupBy::Publisher => ("Publisher".to_owned(), &names.publishers),
        GroupBy::Number => ("Number".to_owned(), &numbers),
        GroupBy::Tag => (format!("Tag {}", ask.query.tag.clone().unwrap_or_default()), &empty_map),
        GroupBy::BlockedBy => ("Block rule".to_owned(), &empty_map),
    };
    // Groups by id are named from the lists; groups by tag value or rule carry their key.
    let name = |g: &GroupMetrics| match (&g.key, g.id) {
        (Some(k), _) => k.clone(),
        (None, Some(id)) => map.get(&id).cloned().unwrap_or_else(|| format!("#{id}")),
        (None, None) => match group {
            GroupBy::Tag => "(no such tag)".to_owned(),
            GroupBy::BlockedBy => "(not blocked)".to_owned(),
            _ => "(none)".to_owned(),
        },
    };
    let cur = summary.currency.as_deref();
    let key_len = if bucket == Bucket::Hour { 13 } else { 10 };
    let mut per_bucket: BTreeMap<String, i64> = BTreeMap::new();
    for p in &series.points {
        *per_bucket.entry(p.local_start.get(..key_len).unwrap_or_default().to_owned()).or_default() += p.metrics.calls;
    }
    let bars: Vec<Bar> = buckets(bucket, ask.first, ask.last)
        .into_iter()
        .map(|(key, label)| {
            let value = per_bucket.get(&key).copied().unwrap_or(0);
            Bar { tip: format!("{label}: {value} calls"), label, value }
        })
        .collect();
    let per = match bucket {
        Bucket::Hour => "hour",
        Bucket::Day => "day",
        Bucket::Week => "week",
    };
    let series_summary = format!("Calls per {per} ({}): {} in all.", series.tz, summary.total.calls);
    let groups: Vec<(String, Metrics)> = summary.groups.into_iter().map(|g| (name(&g), g.metrics)).collect();
    let group_bars: Vec<Bar> =
        groups.iter().map(|(n, m)| Bar { label: n.clone(), tip: format!("{n}: {} calls", m.calls), value: m.calls }).collect();
    // The CSV: plain amounts (the currency is the same for every row), blanks for hidden ones.
    // Every field through `csv::line`: a name such as `=HYPERLINK(..)` is neutralised.
    let mut csv = csv::line(std::iter::once(group_label.as_str()).chain(HEADS));
    for (label, m) in groups.iter().map(|(l, m)| (l.as_str(), m)).chain(std::iter::once(("Total", &summary.total))) {
        let fields = cells(m, None).map(|v| if v == "—" { String::new() } else { v });
        csv.push_str(&csv::line(std::iter::once(label.to_owned()).chain(fields)));
    }
    let rows: Vec<(String, [String; 11])> = groups.iter().map(|(n, m)| (n.clone(), cells(m, cur))).collect();
    let total = cells(&summary.total, cur);
    let file = format!(
        "callbroker-analytics-{}-{}-by-{}.csv",
        format::date(ask.first),
        format::date(ask.last),
        group_label.to_lowercase().replace(' ', "-")
    );
    let breakdown_summary = format!("Calls by {}.", group_label.to_lowercase());
    let empty = summary.total.calls == 0;
    view! {
        <section aria-labelledby="series-h">
            <h2 id="series-h">{format!("Calls per {per}")}</h2>
            <BarChart bars=bars summary=series_summary id="series-chart"/>
        </section>
        <section aria-labelledby="breakdown-h">
            <h2 id="breakdown-h">{format!("By {}", group_label.to_lowercase())} " "
                <a class="cb-small" id="analytics-csv" href=csv_href(&csv) download=file>"Download CSV"</a>
            </h2>
            {(!empty).then(|| view! { <BarChart bars=group_bars summary=breakdown_summary id="group-chart"/> })}
            {empty.then(|| view! { <Empty text="No settled calls in this range."/> })}
            <div class="cb-table-wrap"><table class="cb-table" id="breakdown-table">
                <thead><tr>
                    <th scope="col">{group_label}</th>
                    {HEADS.into_iter().map(|h| view! { <th scope="col" class="cb-num">{h}</th> }).collect_view()}
                </tr></thead>
                <tbody>{rows.into_iter().map(|(label, c)| view! {
                    <tr><th scope="row">{label}</th>{c.into_iter().map(|v| view! { <td class="cb-num">{v}</td> }).collect_view()}</tr>
                }).collect_view()}</tbody>
                <tfoot><tr><th scope="row">"Total"</th>{total.into_iter().map(|v| view! { <td class="cb-num">{v}</td> }).collect_view()}</tr></tfoot>
            </table></div>
            <p class="cb-help">{summary.currency.map(|c| format!("Amounts in {c}.")).unwrap_or_else(|| "Amounts in the campaigns' own currencies.".into())}</p>
        </section>
        {(!bidders.is_empty()).then(|| view! {
            <section aria-labelledby="bidders-h" id="bidder-stats">
                <h2 id="bidders-h">"Bidders"</h2>
                <div inner_html=bidders></div>
            </section>
        })}
        {(!blocked.is_empty()).then(|| view! {
            <section aria-labelledby="blocked-h">
                <h2 id="blocked-h">"Blocked calls by rule"</h2>
                <div class="cb-table-wrap"><table class="cb-table" id="blocked-table">
                    <thead><tr><th scope="col">"Rule"</th><th scope="col" class="cb-num">"Blocked"</th></tr></thead>
                    <tbody>{blocked.into_iter().map(|(rule, n)| view! {
                        <tr data-rule=rule.clone()><th scope="row">{rule.replace('_', " ")}</th><td class="cb-num">{n}</td></tr>
                    }).collect_view()}</tbody>
                </table></div>
            </section>
        })}
    }
}

/// A campaign's IVR drop-off over the range asked: per question, the callers who heard it and
/// what became of them there (counted from the calls started in the range).
#[component]
fn IvrDropOff(asked: RwSignal<Option<Ask>>, names: Fetched<Names>) -> impl IntoView {
    let campaign = RwSignal::new(String::new());
    let funnel = fetch(move || {
        let q = asked.get().zip(campaign.get().parse::<i64>().ok()).map(|(a, id)| IvrFunnelQuery {
            campaign_id: id,
            from: a.query.from,
            to: a.query.to,
        });
        async move {
            match q {
                Some(q) => api::ivr_funnel(&q).await.map(Some),
                None => Ok(None),
            }
        }
    });
    let options = move || {
        let mut v = vec![(String::new(), "Choose a campaign…".to_owned())];
        if let Some(n) = names.get() {
            v.extend(n.campaigns.into_iter().map(|(id, name)| (id.to_string(), name)));
        }
        v.into_iter()
            .map(|(v, l)| {
                let sel = campaign.get_untracked() == v;
                view! { <option value=v selected=sel>{l}</option> }
            })
            .collect_view()
    };
    view! {
        <section aria-labelledby="ivr-h" id="ivr-funnel">
            <h2 id="ivr-h">"IVR drop-off"</h2>
            <div class="cb-field cb-search">
                <label for="ivr-campaign">"Campaign"</label>
                <select id="ivr-campaign" on:change=move |ev| campaign.set(event_target_value(&ev))>{options}</select>
            </div>
            {move || show(funnel.get(), |f| match f {
                None => view! { <Empty text="Choose a campaign to see where its callers leave the IVR."/> }.into_any(),
                Some(f) if f.entered == 0 => view! { <Empty text="No calls entered this campaign's IVR in this range."/> }.into_any(),
                Some(f) => funnel_table(f),
            })}
        </section>
    }
}

fn funnel_table(f: IvrFunnel) -> AnyView {
    let cells = |v: [i64; 5]| v.into_iter().map(|n| view! { <td class="cb-num">{n}</td> }).collect_view();
    let mean = f.mean_ivr_secs.map_or_else(|| "—".to_owned(), |s| format!("{s} s"));
    let totals = format!(
        "{} entered the IVR: {} completed it (routed), {} ended by an answer, {} failed, {} hung up, {} still in it. Mean time in the IVR: {mean}.",
        f.entered, f.completed, f.ended, f.failed, f.abandoned, f.in_progress
    );
    view! {
        <div class="cb-table-wrap"><table class="cb-table" id="ivr-table">
            <thead><tr>
                <th scope="col">"Question"</th>
                {["Reached", "Hung up", "Ended", "Failed", "Still on it"].into_iter().map(|h| view! { <th scope="col" class="cb-num">{h}</th> }).collect_view()}
            </tr></thead>
            <tbody>{f.steps.into_iter().map(|s| view! {
                <tr data-question=s.question.to_string()><th scope="row">{format!("Question {}", s.question + 1)}</th>
                    {cells([s.reached, s.abandoned, s.ended, s.failed, s.in_progress])}</tr>
            }).collect_view()}</tbody>
            <tfoot><tr><th scope="row">"Entered"</th>{cells([f.entered, f.abandoned, f.ended, f.failed, f.in_progress])}</tr></tfoot>
        </table></div>
        <p id="ivr-totals">{totals}</p>
    }
    .into_any()
}

/// Each bidder's figures over the range (every campaign's bidders) as an HTML table
/// ([`crate::markup`]).
fn bidder_table(data: &api::Json) -> String {
    let heads = [
        "Bidder",
        "Pings",
        "Bids",
        "Wins",
        "Win rate",
        "Average bid",
        "Total bid",
        "Timeouts",
        "Other failures",
        "Revenue",
        "Average latency",
    ];
    let rows: Vec<_> = json::items(data)
        .iter()
        .map(|b| {
            let name = json::text(b, "/bidder_name");
            let mut cells = vec![crate::markup::esc(&name)];
            cells.extend(["/pings", "/bids", "/wins"].map(|f| json::text(b, f)));
            cells.push(format::percent(json::at(b, "/win_rate").as_f64().unwrap_or(0.0)));
            cells.extend(["/average_bid_micros", "/total_bid_micros"].map(|f| json::money(b, f)));
            cells.extend(["/timeouts", "/other_failures"].map(|f| json::text(b, f)));
            cells.push(json::money(b, "/revenue_micros"));
            cells.push(json::int(b, "/average_latency_ms").map_or_else(|| "—".into(), |l| format!("{l} ms")));
            (name, cells)
        })
        .collect();
    if rows.is_empty() {
        "<p class=\"cb-empty\">No bidder was pinged.</p>".to_owned()
    } else {
        crate::markup::table("bidder-table", &heads, &rows)
    }
}
