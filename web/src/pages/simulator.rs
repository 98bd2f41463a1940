//! The routing simulator: a hypothetical call (number, caller, state, time, STIR/SHAKEN result,
//! tags, answers to the campaign's IVR, whether it is one of the exploration share) and what would
//! decide it: the screening rule that would block it, the IVR's walk, or the buyer the engine would
//! ring, with every other candidate's reason and the money figures it was ordered by.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::*;
use crate::pages::calls::DecisionTable;

#[component]
pub fn Simulator() -> impl IntoView {
    let numbers = fetch(|| async { api::numbers(api::ALL, &PhoneNumberFilter::default()).await });
    let names = fetch(Names::load);
    let number = RwSignal::new(String::new());
    let caller = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let at = RwSignal::new(String::new());
    let verstat = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let answers = RwSignal::new(String::new());
    let explore = RwSignal::new(false);
    let form = FormState::new();
    let result = RwSignal::new(None::<SimulateResponse>);
    let number_options = Signal::derive(move || {
        let mut v = vec![(String::new(), "Choose a tracking number…".to_owned())];
        if let Some(Ok(p)) = numbers.get() {
            v.extend(p.items.into_iter().map(|n| (n.number.clone(), format!("{} {}", n.number, n.friendly_name.unwrap_or_default()))));
        }
        v
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut c = Check::default();
        let number_v = c.required("number", &number.get_untracked());
        // Not only E.164: a withheld number arrives as `Anonymous` and the like.
        let caller_v = c.required("caller", &caller.get_untracked());
        let state_v = opt_text(&state.get_untracked()).map(|s| s.to_uppercase());
        if let Some(s) = &state_v {
            c.states("state", s);
        }
        let at_v = opt_text(&at.get_untracked()).and_then(|s| match crate::format::parse_datetime_utc(&s) {
            Some(t) => Some(t),
            None => {
                c.fail("at", "must be a date and time");
                None
            }
        });
        let stir_verstat = opt_text(&verstat.get_untracked());
        let tags_v = parse_tags(&tags.get_untracked(), &mut c);
        if !form.begin(c.into_errors()) {
            return;
        }
        result.set(None);
        let req = SimulateRequest {
            number: number_v,
            caller: caller_v,
            state: state_v,
            at: at_v,
            stir_verstat,
            tags: tags_v,
            // One a line; an empty line is silence.
            ivr_answers: answers.with_untracked(|a| a.lines().map(|l| l.trim().to_owned()).collect()),
            explore: explore.get_untracked(),
        };
        spawn_local(async move {
            match api::simulate(&req).await {
                Ok(r) => {
                    form.done("");
                    form.saved.set(None);
                    result.set(Some(r));
                }
                Err(e) => form.failed(e),
            }
        });
    };
    view! {
        <section id="page-simulator">
            <h1>"Routing simulator"</h1>
            <p class="cb-help">"See which buyer a call would go to, and why every other buyer would be skipped. Nothing is dialled or recorded."</p>
            <form class="cb-form" on:submit=on_submit novalidate=true id="simulator-form">
                <div class="cb-grid">
                    <SelectField label="Tracking number" name="number" value=number errors=form.errors options=number_options/>
                    <TextField label="Caller" name="caller" kind="tel" value=caller errors=form.errors placeholder="+12015550123" required=true/>
                    <TextField label="Caller's state" name="state" value=state errors=form.errors placeholder="NJ" help="Blank: from the area code"/>
                    <TextField label="Time (UTC)" name="at" kind="datetime-local" value=at errors=form.errors help="Blank: now"/>
                    <SelectField label="STIR/SHAKEN (StirVerstat)" name="stir_verstat" value=verstat errors=form.errors options=Signal::derive(verstat_options)/>
                    <div class="cb-field">
                        <label for="f-tags">"Tags"</label>
                        <textarea id="f-tags" name="tags" rows="3" placeholder="age=70
    insured=no" aria-describedby="err-tags help-tags"
                            prop:value=move || tags.get() on:input=move |ev| tags.set(event_target_value(&ev))></textarea>
                        <small class="cb-help" id="help-tags">"One NAME=VALUE a line, e.g. an IVR's answers; they win over the caller's own tags"</small>
                        {move || form.errors.with(|e| e.get("tags").cloned()).map(|m| view! { <span class="cb-field-error" id="err-tags">{m}</span> })}
                    </div>
                    <div class="cb-field">
                        <label for="f-ivr_answers">"IVR answers"</label>
                        <textarea id="f-ivr_answers" name="ivr_answers" rows="3" placeholder="1\nyes" aria-describedby="help-ivr_answers"
                            prop:value=move || answers.get() on:input=move |ev| answers.set(event_target_value(&ev))></textarea>
                        <small class="cb-help" id="help-ivr_answers">"One a line, in the order asked (a question asked again takes the next line): keys (1) or words (yes); an empty line is silence"</small>
                    </div>
                </div>
                <CheckField label="Exploration share: the call goes first to buyers still being measured (tiers by earnings per call)" name="explore" value=explore/>
                <FormStatus state=form/>
                <button type="submit" disabled=move || form.busy.get()>"Simulate"</button>
            </form>
            {move || result.get().map(|r| {
                let names = names.get().unwrap_or_default();
                let ivr_message = r.ivr.as_ref().and_then(|w| w.message.clone());
                let headline = match (&r.blocked, r.buyer_id) {
                    (Some(b), _) => format!("Blocked by the {} rule: {}", b.rule.as_str().replace('_', " "), b.detail),
                    (None, None) if r.outcome == "ivr_ended" => format!("The IVR would end the call: “{}”", ivr_message.unwrap_or_default()),
                    (None, Some(b)) => format!("The call would go to {}.", names.buyer(Some(b))),
                    (None, None) => match r.outcome.as_str() {
                        "unknown_number" => "No campaign: this number is not assigned to one.".to_owned(),
                        "campaign_paused" => "Nobody: the campaign is paused.".to_owned(),
                        _ => "Nobody: no buyer can take the call; the caller hears the busy message.".to_owned(),
                    },
                };
                view! {
                    <section aria-labelledby="sim-h" id="simulation-result" aria-live="polite">
                        <h2 id="sim-h">"Result"</h2>
                        <p class="cb-headline">{headline}</p>
                        <p>{format!("Campaign: {} · outcome: {}", names.campaign(r.campaign_id), r.outcome.replace('_', " "))}</p>
                        {r.blocked.as_ref().map(|b| view! { <p id="sim-rule" data-rule=b.rule.as_str()>{format!("Deciding rule: {}", b.rule.as_str())}</p> })}
                        <p id="sim-tags">{if r.tags.is_empty() { "The call would carry no tags.".to_owned() } else {
                            format!("Tags: {}", r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
                        }}</p>
                        {r.ivr.map(|w| view! { <IvrWalk walk=w/> })}
                        {(r.blocked.is_none() && r.outcome != "ivr_ended").then(|| view! { <DecisionTable decision=r.decision/> })}
                    </section>
                }
            })}
        </section>
    }
}

/// The IVR as the simulator walked it: each question asked, what was answered and what it came to.
#[component]
fn IvrWalk(walk: SimulatedIvr) -> impl IntoView {
    let mut summary = format!("IVR: {}", walk.outcome.as_str().replace('_', " "));
    if let Some(l) = &walk.route_label {
        summary.push_str(&format!(" · kept to buyers labelled {l}"));
    }
    if let Some(m) = &walk.message {
        summary.push_str(&format!(" · says “{m}”"));
    }
    view! {
        <div id="sim-ivr" data-outcome=walk.outcome.as_str()>
            <p id="sim-ivr-summary">{summary}</p>
            <div class="cb-table-wrap"><table class="cb-table" id="sim-ivr-steps">
                <thead><tr><th scope="col" class="cb-num">"Question"</th><th scope="col" class="cb-num">"Try"</th><th scope="col">"Answer"</th><th scope="col">"Result"</th></tr></thead>
                <tbody>{walk.steps.into_iter().map(|s| view! {
                    <tr>
                        <td class="cb-num">{s.question + 1}</td>
                        <td class="cb-num">{s.attempt}</td>
                        <td>{if s.answer.is_empty() { "(silence)".to_owned() } else { s.answer }}</td>
                        <td>{s.result.replace('_', " ")}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table></div>
        </div>
    }
}

fn verstat_options() -> Vec<(String, String)> {
    let mut v = vec![(String::new(), "Not sent".to_owned())];
    v.extend(
        [
            "TN-Validation-Passed-A",
            "TN-Validation-Passed-B",
            "TN-Validation-Passed-C",
            "TN-Validation-Failed-A",
            "TN-Validation-Failed-B",
            "TN-Validation-Failed-C",
            "No-TN-Validation",
        ]
        .map(|s| (s.to_owned(), s.to_owned())),
    );
    v
}

/// `NAME=VALUE` lines as tags (blank lines skipped).
fn parse_tags(text: &str, c: &mut Check) -> Tags {
    let mut tags = Tags::new();
    for (i, line) in text.lines().map(str::trim).enumerate().filter(|(_, l)| !l.is_empty()) {
        match line.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                tags.insert(k.trim().to_owned(), v.trim().to_owned());
            }
            _ => c.fail("tags", &format!("line {} must read NAME=VALUE", i + 1)),
        }
    }
    tags
}
