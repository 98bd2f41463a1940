//! A bar chart drawn as inline SVG (no chart library): one bar per bucket, its value in a
//! tooltip, a few labels along the bottom. Screen readers get the `summary` sentence; the
//! figures themselves are in the tables beside each chart.
use leptos::prelude::*;

/// One bar: its axis label, its tooltip and its value.
#[derive(Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub tip: String,
    pub value: i64,
}

const W: i64 = 600;
const H: i64 = 160;
const BASE: i64 = 140;

#[component]
pub fn BarChart(bars: Vec<Bar>, #[prop(into)] summary: String, #[prop(into)] id: String) -> impl IntoView {
    let max = bars.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let n = bars.len().max(1) as i64;
    let step = W / n;
    let width = (step * 4 / 5).clamp(1, 60);
    // Roughly eight labels whatever the number of bars.
    let every = ((n + 7) / 8).max(1) as usize;
    let rects = bars
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let x = i as i64 * step + (step - width) / 2;
            let h = b.value * (BASE - 10) / max;
            let label = (i % every == 0).then(|| view! { <text x={x + width / 2} y={H - 4} text-anchor="middle">{b.label.clone()}</text> });
            view! {
                <g>
                    <rect class="cb-bar" x=x y={BASE - h} width=width height={h.max(b.value.signum())} data-value=b.value>
                        <title>{b.tip}</title>
                    </rect>
                    {label}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="cb-chart" id=id>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=summary.clone() preserveAspectRatio="none">
                <line x1="0" y1=BASE x2=W y2=BASE class="cb-axis"/>
                <text x="2" y="10" class="cb-max">{max}</text>
                {rects}
            </svg>
            <figcaption class="cb-help">{summary}</figcaption>
        </figure>
    }
}
