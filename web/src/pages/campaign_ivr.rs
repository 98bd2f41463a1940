//! The campaign's IVR editor: questions (a prompt said or played, keys and/or speech, the tag the
//! answer is stored in, the answers and what each does), the retries and what follows them, and
//! a preview of the TwiML callers get. Saved with the campaign, whole (`ivr` replaces the IVR).
//!
//! Kept small for the first load's budget: every input goes through [`input`] and [`choice`],
//! plain functions compiled once, and fields that do not apply are hidden, not rebuilt.
use callbroker_wire::*;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::components::form::Errors;
use crate::components::*;

pub(crate) type Opts = &'static [(&'static str, &'static str)];

const PROMPT_KINDS: Opts = &[("say", "Text said"), ("play", "Audio played (URL)")];
const INPUTS: Opts = &[("dtmf", "Keys"), ("speech", "Speech"), ("dtmf_speech", "Keys or speech")];
const ACTIONS: Opts = &[("continue", "Next question"), ("end", "End the call"), ("route", "Keep to buyers labelled")];
const FAILURES: Opts = &[("end", "End the call"), ("continue", "Go on without the answer")];

fn input_str(i: IvrInput) -> &'static str {
    match i {
        IvrInput::Dtmf => "dtmf",
        IvrInput::Speech => "speech",
        IvrInput::DtmfSpeech => "dtmf_speech",
    }
}

fn parse_input(s: &str) -> IvrInput {
    match s {
        "speech" => IvrInput::Speech,
        "dtmf_speech" => IvrInput::DtmfSpeech,
        _ => IvrInput::Dtmf,
    }
}

fn action_str(a: IvrAction) -> &'static str {
    match a {
        IvrAction::Continue => "continue",
        IvrAction::End => "end",
        IvrAction::Route => "route",
    }
}

fn parse_action(s: &str) -> IvrAction {
    match s {
        "end" => IvrAction::End,
        "route" => IvrAction::Route,
        _ => IvrAction::Continue,
    }
}

fn text(v: Option<&str>) -> RwSignal<String> {
    RwSignal::new(v.unwrap_or_default().to_owned())
}

#[derive(Clone, Copy)]
struct AnswerRow {
    key: usize,
    /// More tags the answer sets (not edited here: kept as loaded).
    set_tags: StoredValue<Tags>,
    digits: RwSignal<String>,
    /// Words or phrases, comma-separated.
    speech: RwSignal<String>,
    value: RwSignal<String>,
    action: RwSignal<String>,
    message: RwSignal<String>,
    label: RwSignal<String>,
}

impl AnswerRow {
    fn read(&self, input: IvrInput) -> IvrAnswer {
        let action = parse_action(&self.action.get_untracked());
        let speech = self.speech.get_untracked();
        IvrAnswer {
            digits: if input == IvrInput::Speech { None } else { opt_text(&self.digits.get_untracked()) },
            speech: if input == IvrInput::Dtmf {
                vec![]
            } else {
                speech.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
            },
            value: opt_text(&self.value.get_untracked()),
            set_tags: self.set_tags.get_value(),
            action,
            message: if action == IvrAction::End { opt_text(&self.message.get_untracked()) } else { None },
            label: if action == IvrAction::Route { opt_text(&self.label.get_untracked()) } else { None },
        }
    }
}

#[derive(Clone, Copy)]
struct QuestionRow {
    key: usize,
    /// `say` or `play`.
    kind: RwSignal<String>,
    prompt: RwSignal<String>,
    input: RwSignal<String>,
    num_digits: RwSignal<String>,
    timeout: RwSignal<String>,
    tag: RwSignal<String>,
    min_confidence: RwSignal<String>,
    answers: RwSignal<Vec<AnswerRow>>,
}

impl QuestionRow {
    /// The question, with the page's own checks (problems named `{at}.<field>` as the API names them).
    fn read(&self, at: &str, c: &mut Check) -> IvrQuestion {
        let play = self.kind.get_untracked() == "play";
        let prompt = c.required(&format!("{at}.{}", if play { "play" } else { "say" }), &self.prompt.get_untracked());
        let input = parse_input(&self.input.get_untracked());
        let num_digits = c.opt_int(&format!("{at}.num_digits"), &self.num_digits.get_untracked(), 1, 20);
        let timeout_secs = c.int(&format!("{at}.timeout_secs"), &self.timeout.get_untracked(), 1, 60);
        let confidence = self.min_confidence.get_untracked();
        let min_confidence = match confidence.trim() {
            _ if input == IvrInput::Dtmf => 0.0,
            "" => 0.0,
            v => match v.parse::<f64>() {
                Ok(n) if (0.0..=1.0).contains(&n) => n,
                _ => {
                    c.fail(&format!("{at}.min_confidence"), "must be a number from 0 to 1");
                    0.0
                }
            },
        };
        IvrQuestion {
            say: (!play).then(|| prompt.clone()),
            play: play.then_some(prompt),
            input,
            num_digits,
            timeout_secs,
            tag: opt_text(&self.tag.get_untracked()),
            answers: self.answers.get_untracked().iter().map(|a| a.read(input)).collect(),
            min_confidence,
        }
    }
}

/// A campaign's IVR as edited: every field as its input's text.
#[derive(Clone, Copy)]
pub struct IvrEdit {
    questions: RwSignal<Vec<QuestionRow>>,
    retries: RwSignal<String>,
    retry_message: RwSignal<String>,
    on_failure: RwSignal<String>,
    failure_message: RwSignal<String>,
    next: StoredValue<usize>,
    /// The form's owner: rows added later (from a click inside a question, whose view is rebuilt
    /// when questions move) are owned by it, so they live as long as the form.
    owner: StoredValue<Option<Owner>>,
}

impl IvrEdit {
    pub fn new(ivr: &Ivr) -> Self {
        let edit = IvrEdit {
            questions: RwSignal::new(vec![]),
            retries: RwSignal::new(ivr.retries.to_string()),
            retry_message: text(ivr.retry_message.as_deref()),
            on_failure: text(Some(if ivr.on_failure == IvrFailure::Continue { "continue" } else { "end" })),
            failure_message: text(ivr.failure_message.as_deref()),
            next: StoredValue::new(0),
            owner: StoredValue::new(Owner::current()),
        };
        edit.questions.set(ivr.questions.iter().map(|q| edit.question(Some(q))).collect());
        edit
    }

    fn key(&self) -> usize {
        let k = self.next.get_value();
        self.next.set_value(k + 1);
        k
    }

    fn owned<T>(&self, f: impl FnOnce() -> T) -> T {
        match self.owner.get_value() {
            Some(owner) => owner.with(f),
            None => f(),
        }
    }

    fn answer(&self, a: Option<&IvrAnswer>) -> AnswerRow {
        self.owned(|| AnswerRow {
            key: self.key(),
            set_tags: StoredValue::new(a.map(|a| a.set_tags.clone()).unwrap_or_default()),
            digits: text(a.and_then(|a| a.digits.as_deref())),
            speech: RwSignal::new(a.map(|a| a.speech.join(", ")).unwrap_or_default()),
            value: text(a.and_then(|a| a.value.as_deref())),
            action: text(Some(action_str(a.map(|a| a.action).unwrap_or_default()))),
            message: text(a.and_then(|a| a.message.as_deref())),
            label: text(a.and_then(|a| a.label.as_deref())),
        })
    }

    /// A row for `q`, or for a new question (keys, one key, 5 s).
    fn question(&self, q: Option<&IvrQuestion>) -> QuestionRow {
        self.owned(|| QuestionRow {
            key: self.key(),
            kind: text(Some(if q.is_some_and(|q| q.play.is_some()) { "play" } else { "say" })),
            prompt: text(q.and_then(|q| q.play.as_deref().or(q.say.as_deref()))),
            input: text(Some(input_str(q.map(|q| q.input).unwrap_or_default()))),
            num_digits: RwSignal::new(q.map_or_else(|| "1".to_owned(), |q| crate::format::opt(q.num_digits))),
            timeout: RwSignal::new(q.map_or(DEFAULT_IVR_TIMEOUT_SECS, |q| q.timeout_secs).to_string()),
            tag: text(q.and_then(|q| q.tag.as_deref())),
            min_confidence: RwSignal::new(q.map_or(0.0, |q| q.min_confidence).to_string()),
            answers: RwSignal::new(q.map(|q| q.answers.iter().map(|a| self.answer(Some(a))).collect()).unwrap_or_default()),
        })
    }

    /// The IVR as the API takes it, after the page's own checks (numbers in range, a prompt for
    /// each question); the rest is the server's to judge.
    pub fn read(&self, c: &mut Check) -> Ivr {
        let questions = self.questions.get_untracked().iter().enumerate().map(|(i, q)| q.read(&format!("ivr.questions[{i}]"), c)).collect();
        let on_failure = if self.on_failure.get_untracked() == "continue" { IvrFailure::Continue } else { IvrFailure::End };
        Ivr {
            questions,
            retries: c.int("ivr.retries", &self.retries.get_untracked(), 0, 5),
            retry_message: opt_text(&self.retry_message.get_untracked()),
            on_failure,
            failure_message: if on_failure == IvrFailure::End { opt_text(&self.failure_message.get_untracked()) } else { None },
        }
    }
}

/// A labelled input bound to `value`, showing the message of the first of `keys` (or of an item
/// of it) that has one; hidden while `shown` says so.
#[allow(clippy::too_many_arguments)]
pub(crate) fn input(
    label: &'static str,
    id: String,
    keys: Vec<String>,
    value: RwSignal<String>,
    errors: Errors,
    kind: &'static str,
    placeholder: &'static str,
    shown: Option<Signal<bool>>,
) -> AnyView {
    let err_id = format!("err-{}", keys[0]);
    let keys = StoredValue::new(keys);
    let message = move || keys.with_value(|ks| ks.iter().find_map(|k| error_at(errors, k)));
    let class = if kind == "number" { "cb-field cb-narrow" } else { "cb-field" };
    view! {
        <div class=class hidden=move || shown.is_some_and(|s| !s.get())>
            <label for=id.clone()>{label}</label>
            <input id=id type=kind placeholder=placeholder aria-describedby=err_id.clone()
                aria-invalid=move || message().is_some().to_string()
                prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev))/>
            {move || message().map(|m| view! { <span class="cb-field-error" id=err_id.clone()>{m}</span> })}
        </div>
    }
    .into_any()
}

/// A labelled select over fixed options.
pub(crate) fn choice(label: &'static str, id: String, value: RwSignal<String>, opts: Opts) -> AnyView {
    view! {
        <div class="cb-field">
            <label for=id.clone()>{label}</label>
            <select id=id on:change=move |ev| value.set(event_target_value(&ev))>
                {opts.iter().map(|(v, l)| view! { <option value=*v selected={value.get_untracked() == *v}>{*l}</option> }).collect_view()}
            </select>
        </div>
    }
    .into_any()
}

fn is(value: RwSignal<String>, want: &'static str) -> Signal<bool> {
    Signal::derive(move || value.get() == want)
}

fn is_not(value: RwSignal<String>, not: &'static str) -> Signal<bool> {
    Signal::derive(move || value.get() != not)
}

/// One answer of question `i`.
fn answer_view(q: QuestionRow, a: AnswerRow, i: usize, j: usize, errors: Errors) -> AnyView {
    let at = format!("ivr.questions[{i}].answers[{j}]");
    let id = |f: &str| format!("ivr-q{i}-a{j}-{f}");
    let key = |f: &str| vec![format!("{at}.{f}")];
    view! {
        <div class="cb-row ivr-answer" id=format!("ivr-q{i}-a{j}")>
            {input("Keys", id("digits"), key("digits"), a.digits, errors, "text", "1", Some(is_not(q.input, "speech")))}
            {input("Words (comma-separated)", id("speech"), key("speech"), a.speech, errors, "text", "yes, yeah", Some(is_not(q.input, "dtmf")))}
            {input("Value stored", id("value"), key("value"), a.value, errors, "text", "the keys or first word", None)}
            {choice("Then", id("action"), a.action, ACTIONS)}
            {input("Message before hanging up", id("message"), key("message"), a.message, errors, "text", DEFAULT_IVR_END_MESSAGE, Some(is(a.action, "end")))}
            {input("Buyer label", id("label"), key("label"), a.label, errors, "text", "spanish", Some(is(a.action, "route")))}
            <button type="button" class="cb-secondary" aria-label=format!("Remove answer {} of question {}", j + 1, i + 1)
                on:click=move |_| q.answers.update(|v| v.retain(|x| x.key != a.key))>"Remove"</button>
        </div>
    }
    .into_any()
}

/// Question `i` of `n`, with its answers.
fn question_view(ivr: IvrEdit, q: QuestionRow, i: usize, n: usize, errors: Errors) -> AnyView {
    let at = format!("ivr.questions[{i}]");
    let id = |f: &str| format!("ivr-q{i}-{f}");
    let key = |f: &str| vec![format!("{at}.{f}")];
    let answers_key = format!("{at}.answers");
    let swap = move |other: usize| ivr.questions.update(|v| v.swap(i, other));
    view! {
        <fieldset class="cb-subform ivr-question" id=format!("ivr-q{i}")>
            <legend>{format!("Question {}", i + 1)}</legend>
            <div class="cb-row">
                {choice("Prompt", id("kind"), q.kind, PROMPT_KINDS)}
                <div class="cb-wide">{input("Text said, or audio URL", id("prompt"), vec![format!("{at}.say"), format!("{at}.play")], q.prompt, errors, "text", "", None)}</div>
                {choice("Caller answers with", id("input"), q.input, INPUTS)}
                {input("Keys expected", id("num-digits"), key("num_digits"), q.num_digits, errors, "number", "until #", None)}
                {input("Wait (s)", id("timeout"), key("timeout_secs"), q.timeout, errors, "number", "", None)}
                {input("Store the answer in tag", id("tag"), key("tag"), q.tag, errors, "text", "none", None)}
                {input("Min. speech confidence (0–1)", id("confidence"), key("min_confidence"), q.min_confidence, errors, "text", "0", Some(is_not(q.input, "dtmf")))}
            </div>
            <p class="cb-help">"Answers, the first that matches is taken. None: any input is stored as it is (a ZIP code, an age)."</p>
            {move || q.answers.get().into_iter().enumerate().map(|(j, a)| answer_view(q, a, i, j, errors)).collect_view()}
            {move || error_at(errors, &answers_key).map(|m| view! { <span class="cb-field-error">{m}</span> })}
            <div class="cb-row">
                <button type="button" class="cb-secondary" id=id("add-answer") on:click=move |_| q.answers.update(|v| v.push(ivr.answer(None)))>"Add answer"</button>
                <button type="button" class="cb-secondary" aria-label=format!("Move question {} up", i + 1) disabled={i == 0} on:click=move |_| swap(i.saturating_sub(1))>"↑"</button>
                <button type="button" class="cb-secondary" aria-label=format!("Move question {} down", i + 1) disabled={i + 1 == n} on:click=move |_| swap(i + 1)>"↓"</button>
                <button type="button" class="cb-secondary" aria-label=format!("Remove question {}", i + 1)
                    on:click=move |_| ivr.questions.update(|v| v.retain(|x| x.key != q.key))>"Remove question"</button>
            </div>
        </fieldset>
    }
    .into_any()
}

/// The IVR part of the campaign form; `greeting` is said before the first question (previewed too).
#[component]
pub fn IvrFields(ivr: IvrEdit, greeting: RwSignal<String>, errors: Errors) -> impl IntoView {
    let preview = RwSignal::new(None::<IvrPreview>);
    let problem = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_preview = move |_: leptos::ev::MouseEvent| {
        let mut c = Check::default();
        let body = IvrPreviewRequest { ivr: ivr.read(&mut c), greeting: opt_text(&greeting.get_untracked()) };
        let found = c.into_errors();
        preview.set(None);
        if !found.is_empty() {
            errors.set(found);
            problem.set(Some("Please correct the highlighted fields.".to_owned()));
            return;
        }
        problem.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::ivr_preview(&body).await {
                Ok(p) => {
                    errors.set(Default::default());
                    preview.set(Some(p));
                }
                Err(e) => {
                    problem.set(Some(e.message()));
                    errors.set(e.fields());
                }
            }
            busy.set(false);
        });
    };
    // One element per line: Twilio's TwiML comes as a single line.
    let pre = |xml: String| view! { <pre class="cb-twiml">{xml.replace("><", ">\n<")}</pre> };
    view! {
        <fieldset class="cb-subform" id="ivr">
            <legend>"IVR"</legend>
            <p class="cb-help">"Questions put to callers who pass the screening, before any buyer rings. An answer can store a tag, end the call, or keep it to buyers with a label."</p>
            {move || {
                let list = ivr.questions.get();
                let n = list.len();
                if n == 0 {
                    return view! { <Empty text="No IVR: callers go straight to the buyers."/> }.into_any();
                }
                list.into_iter().enumerate().map(|(i, q)| question_view(ivr, q, i, n, errors)).collect_view().into_any()
            }}
            {move || errors.with(|e| e.get("ivr.questions").cloned()).map(|m| view! { <span class="cb-field-error">{m}</span> })}
            <div class="cb-row">
                {input("Retries", "ivr-retries".to_owned(), vec!["ivr.retries".to_owned()], ivr.retries, errors, "number", "", None)}
                {input("Said before asking again", "ivr-retry-message".to_owned(), vec!["ivr.retry_message".to_owned()], ivr.retry_message, errors, "text", DEFAULT_IVR_RETRY_MESSAGE, None)}
                {choice("After the retries", "ivr-on-failure".to_owned(), ivr.on_failure, FAILURES)}
                {input("Said before hanging up", "ivr-failure-message".to_owned(), vec!["ivr.failure_message".to_owned()], ivr.failure_message, errors, "text", DEFAULT_IVR_FAILURE_MESSAGE, Some(is(ivr.on_failure, "end")))}
            </div>
            <div class="cb-row">
                <button type="button" class="cb-secondary" id="ivr-add-question" on:click=move |_| ivr.questions.update(|v| v.push(ivr.question(None)))>"Add question"</button>
                <button type="button" class="cb-secondary" id="ivr-preview-button" disabled=move || busy.get() on:click=on_preview>"Preview TwiML"</button>
            </div>
            {move || problem.get().map(|m| view! { <p class="cb-error" role="alert">{m}</p> })}
            {move || preview.get().map(|p| view! {
                <section id="ivr-preview" aria-label="TwiML preview">
                    {p.questions.into_iter().enumerate().map(|(i, x)| view! { <h3>{format!("Question {}", i + 1)}</h3> {pre(x)} }).collect_view()}
                    {p.retry.map(|x| view! { <h3>"Question 1, asked again after silence"</h3> {pre(x)} })}
                </section>
            })}
        </fieldset>
    }
}
