//! The components. They render [`DemoState`] and forward user actions to it; every number they
//! show comes from `lethe_shared` (probabilities, deltas) or from the catalogue the trainer wrote.

use leptos::prelude::*;
use lethe_shared::catalog::{Catalog, CatalogRun, METRICS};
use lethe_shared::data::DatasetKind;
use lethe_shared::inference::{compare, predicted_class};
use lethe_shared::live::LiveSettings;
use web_sys::{DragEvent, HtmlInputElement};

use crate::engine::{ActiveBackend, Classified};
use crate::live::{LivePhase, LiveState, curve_points};
use crate::platform::draw_rgba;
use crate::state::{Comparison, DemoState, format_bytes};

/// The whole page.
#[component]
pub fn App() -> impl IntoView {
    let state = DemoState::new();
    let live = LiveState::new();
    state.start();
    // Re-classify whenever the selection or the picture changes.
    Effect::new(move |_| state.refresh());
    view! {
        <header>
            <h1>"Lethe"</h1>
            <p class="tagline">
                "See a model forget: the same picture, classified by the original model and by a model that unlearned a class."
            </p>
            <Backend state />
        </header>
        <p id="status" class="status">{move || state.status.get()}</p>
        <ErrorBoundary fallback=error_list>
            {move || state.catalog.get().map(|catalog| catalog.map(|_| view! { <Controls state /> }))}
        </ErrorBoundary>
        <main>
            <section class="gallery">
                <h2>"1 · Pick a picture"</h2>
                <ErrorBoundary fallback=error_list>
                    <Gallery state />
                </ErrorBoundary>
                <Upload state />
            </section>
            <section class="results">
                <h2>"2 · Before and after forgetting"</h2>
                <Preview state />
                <ErrorBoundary fallback=error_list>
                    {move || {
                        state
                            .outcome
                            .get()
                            .map(|outcome| outcome.map(|comparison| view! { <Results state comparison /> }))
                    }}
                </ErrorBoundary>
            </section>
        </main>
        <section class="metrics">
            <h2>"3 · How well did it forget?"</h2>
            <Metrics state />
        </section>
        <LivePanel state live />
        <footer>
            "Lethe runs the trainer's own model code in your browser (Rust → WebAssembly, Burn). Samples are "
            {move || {
                state.original.track();
                match state.dataset() {
                    DatasetKind::Cifar10 => "CIFAR-10 ",
                    DatasetKind::FashionMnist => "Fashion-MNIST ",
                }
            }}
            <em>"test"</em>
            " images, never seen in training."
        </footer>
    }
}

fn error_list(errors: ArcRwSignal<Errors>) -> impl IntoView {
    view! {
        <div class="error" role="alert">
            <ul>
                {move || {
                    errors
                        .get()
                        .into_iter()
                        .map(|(_, error)| view! { <li class="error-text">{error.to_string()}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The active backend, and why not WebGPU when on the CPU.
#[component]
fn Backend(state: DemoState) -> impl IntoView {
    move || {
        state.backend.get().map(|backend| {
            let reason = match &backend {
                ActiveBackend::WebGpu => String::from("running on the GPU through WebGPU"),
                ActiveBackend::Cpu { reason } => format!("CPU fallback: {reason}"),
            };
            view! {
                <span id="backend" class="badge" title=reason.clone() data-backend=backend.label()>
                    "backend: "
                    {backend.label()}
                </span>
                <span class="backend-reason">{reason}</span>
            }
        })
    }
}

fn class_name(catalog: &Catalog, original: &str, class: u8) -> String {
    catalog
        .find(original)
        .and_then(|run| {
            run.model
                .dataset
                .class_names()
                .get(usize::from(class))
                .map(|name| (*name).to_owned())
        })
        .unwrap_or_else(|| class.to_string())
}

fn class_list(catalog: &Catalog, original: &str, classes: &[u8]) -> String {
    classes
        .iter()
        .map(|&class| class_name(catalog, original, class))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// Model, forgotten class and method pickers.
#[component]
fn Controls(state: DemoState) -> impl IntoView {
    let catalog = move || match state.catalog.get() {
        Some(Ok(catalog)) => Some(catalog),
        _ => None,
    };
    let originals = move || {
        let selected = state.original.get();
        catalog().map(|catalog| {
            catalog
                .originals()
                .into_iter()
                .map(|run| {
                    let chosen = selected.as_deref() == Some(run.id.as_str());
                    view! {
                        <option value=run.id.clone() selected=chosen>
                            {format!("{} ({})", run.title(), format_bytes(run.weights_bytes))}
                        </option>
                    }
                })
                .collect_view()
        })
    };
    let forgotten_sets = move || {
        let original = state.original.get().unwrap_or_default();
        let selected = state.forgotten.get();
        catalog().map(|catalog| {
            catalog
                .forgotten_sets(&original)
                .into_iter()
                .enumerate()
                .map(|(index, classes)| {
                    let chosen = classes == selected;
                    let listed: Vec<String> = classes.iter().map(u8::to_string).collect();
                    view! {
                        <option
                            value=index.to_string()
                            selected=chosen
                            data-classes=listed.join(",")
                        >
                            {class_list(&catalog, &original, &classes)}
                        </option>
                    }
                })
                .collect_view()
        })
    };
    let methods = move || {
        let original = state.original.get().unwrap_or_default();
        let classes = state.forgotten.get();
        let selected = state.unlearned.get();
        catalog().map(|catalog| {
            catalog
                .runs_forgetting(&original, &classes)
                .into_iter()
                .map(|run| {
                    let chosen = selected.as_deref() == Some(run.id.as_str());
                    view! {
                        <option value=run.id.clone() selected=chosen>
                            {run.method_name.clone()}
                        </option>
                    }
                })
                .collect_view()
        })
    };
    let no_runs = move || {
        let original = state.original.get().unwrap_or_default();
        catalog()
            .filter(|catalog| catalog.forgotten_sets(&original).is_empty())
            .map(|_| {
                view! {
                    <p class="note">
                        "No unlearned model of this original is shipped yet: run `lethe forget` and `lethe export-web`."
                    </p>
                }
            })
    };
    view! {
        <nav class="controls">
            <label>
                "Model "
                <select
                    id="model-select"
                    on:change=move |event| state.select_original(&event_target_value(&event))
                >
                    {originals}
                </select>
            </label>
            <label>
                "Forgotten class "
                <select
                    id="forget-select"
                    on:change=move |event| {
                        let index: usize = event_target_value(&event).parse().unwrap_or(0);
                        let original = state.original.get_untracked().unwrap_or_default();
                        let sets = catalog()
                            .map(|catalog| catalog.forgotten_sets(&original))
                            .unwrap_or_default();
                        if let Some(classes) = sets.into_iter().nth(index) {
                            state.select_forgotten(classes);
                        }
                    }
                >
                    {forgotten_sets}
                </select>
            </label>
            <label>
                "Method "
                <select
                    id="method-select"
                    on:change=move |event| state.select_unlearned(&event_target_value(&event))
                >
                    {methods}
                </select>
            </label>
            {no_runs}
        </nav>
    }
}

/// Sample pictures of the test set, filterable by class.
#[component]
fn Gallery(state: DemoState) -> impl IntoView {
    let filter_options = move || {
        let selected = state.class_filter.get();
        let dataset = state.dataset();
        let forgotten = state.forgotten.get();
        let mut options = vec![
            view! {
                <option value="all" selected=selected.is_none()>"all classes"</option>
            }
            .into_any(),
        ];
        for (class, name) in dataset.class_names().iter().enumerate() {
            let class = class as u8;
            let label = if forgotten.contains(&class) {
                format!("{name} (forgotten)")
            } else {
                (*name).to_owned()
            };
            options.push(
                view! {
                    <option value=class.to_string() selected=selected == Some(class)>
                        {label}
                    </option>
                }
                .into_any(),
            );
        }
        options.collect_view()
    };
    let thumbnails = move || {
        let filter = state.class_filter.get();
        let current = state.image.get().map(|image| image.name);
        state.samples.get().map(|samples| {
            samples.map(|set| {
                let names = set.dataset.class_names();
                set.of_class(filter)
                    .cloned()
                    .map(|sample| {
                        let name = sample
                            .file
                            .rsplit('/')
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        let chosen = current.as_deref() == Some(name.as_str());
                        let title = format!(
                            "{} (test image #{})",
                            names.get(usize::from(sample.label)).copied().unwrap_or("?"),
                            sample.test_index
                        );
                        let (file, source) = (sample.file.clone(), sample.file.clone());
                        let alt = title.clone();
                        let label = sample.label;
                        view! {
                            <button
                                class="thumb"
                                class:chosen=chosen
                                title=title
                                data-file=file
                                data-label=label.to_string()
                                on:click=move |_| state.show_sample(sample.clone())
                            >
                                <img src=source alt=alt width="48" height="48" />
                            </button>
                        }
                    })
                    .collect_view()
            })
        })
    };
    view! {
        <label>
            "Show "
            <select
                id="class-filter"
                on:change=move |event| {
                    state.class_filter.set(event_target_value(&event).parse::<u8>().ok())
                }
            >
                {filter_options}
            </select>
        </label>
        <div id="gallery" class="thumbs">{thumbnails}</div>
    }
}

/// File picker and drop zone for the user's own picture.
#[component]
fn Upload(state: DemoState) -> impl IntoView {
    view! {
        <div
            class="upload"
            on:dragover=|event: DragEvent| event.prevent_default()
            on:drop=move |event: DragEvent| {
                event.prevent_default();
                if let Some(file) = event
                    .data_transfer()
                    .and_then(|transfer| transfer.files())
                    .and_then(|files| files.get(0))
                {
                    state.upload(file);
                }
            }
        >
            <p>"…or drop your own picture here (PNG, JPEG, GIF, WebP, BMP), or "</p>
            <input
                id="upload"
                type="file"
                accept="image/*"
                on:change=move |event| {
                    let input: HtmlInputElement = event_target(&event);
                    if let Some(file) = input.files().and_then(|files| files.get(0)) {
                        state.upload(file);
                    }
                    input.set_value("");
                }
            />
            <p id="upload-error" class="error-text" role="alert">
                {move || state.upload_error.get().map(|error| error.to_string())}
            </p>
        </div>
    }
}

/// The picture as the model sees it (after crop and resize).
#[component]
fn Preview(state: DemoState) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        if let (Some(canvas), Some(image)) = (canvas.get(), state.image.get()) {
            let size = u32::try_from(image.prepared.size).unwrap_or(32);
            if let Err(error) = draw_rgba(&canvas, &image.prepared.rgba(), size) {
                state.upload_error.set(Some(error));
            }
        }
    });
    let caption = move || {
        state.image.get().map(|image| {
            let (width, height) = image.prepared.original_size;
            let truth = image
                .label
                .and_then(|label| {
                    state
                        .dataset()
                        .class_names()
                        .get(usize::from(label))
                        .map(|name| format!(" · true class: {name}"))
                })
                .unwrap_or_default();
            format!(
                "{} · {width}×{height} → {size}×{size}{truth}",
                image.name,
                size = image.prepared.size
            )
        })
    };
    view! {
        <figure class="preview">
            <canvas id="preview" node_ref=canvas width="32" height="32"></canvas>
            <figcaption id="preview-caption">{caption}</figcaption>
        </figure>
    }
}

/// The two models' probabilities side by side.
#[component]
fn Results(state: DemoState, comparison: Comparison) -> impl IntoView {
    let Some(Ok(catalog)) = state.catalog.get_untracked() else {
        return ().into_any();
    };
    let (Some(original), Some(unlearned)) = (
        catalog.find(&comparison.original_id).cloned(),
        catalog.find(&comparison.unlearned_id).cloned(),
    ) else {
        return ().into_any();
    };
    let names: Vec<String> = original
        .model
        .dataset
        .class_names()
        .iter()
        .map(|name| (*name).to_owned())
        .collect();
    let forgotten = unlearned.forgotten_classes.clone();
    let changes = compare(
        &comparison.original.probabilities,
        &comparison.unlearned.probabilities,
    );
    let deltas: Vec<f32> = changes.iter().map(|change| change.delta()).collect();
    view! {
        <div
            class="columns"
            data-image=comparison.image_name.clone()
            data-original=comparison.original_id.clone()
            data-unlearned=comparison.unlearned_id.clone()
        >
            <ModelColumn
                key="original"
                heading=format!("{} · Original", original.title())
                names=names.clone()
                forgotten=forgotten.clone()
                result=comparison.original.clone()
                deltas=None
            />
            <ModelColumn
                key="unlearned"
                heading=format!("{} · {}", unlearned.title(), unlearned.method_name)
                names=names
                forgotten=forgotten
                result=comparison.unlearned.clone()
                deltas=Some(deltas)
            />
        </div>
    }
    .into_any()
}

#[component]
fn ModelColumn(
    key: &'static str,
    heading: String,
    names: Vec<String>,
    forgotten: Vec<u8>,
    result: Classified,
    deltas: Option<Vec<f32>>,
) -> impl IntoView {
    let predicted = predicted_class(&result.probabilities).unwrap_or(0);
    let predicted_name = names.get(predicted).cloned().unwrap_or_default();
    let probabilities_json =
        serde_json::to_string(&result.probabilities).unwrap_or_else(|_| String::from("[]"));
    let rows = result
        .probabilities
        .iter()
        .enumerate()
        .map(|(class, &probability)| {
            let is_forgotten = u8::try_from(class).is_ok_and(|class| forgotten.contains(&class));
            let delta = deltas
                .as_ref()
                .and_then(|deltas| deltas.get(class).copied());
            view! {
                <div class="bar-row" class:forgotten=is_forgotten class:top=class == predicted>
                    <span class="class-name">{names.get(class).cloned().unwrap_or_default()}</span>
                    <span class="bar">
                        <span
                            class="fill"
                            style=format!("width: {:.2}%", 100.0 * probability)
                        ></span>
                    </span>
                    <span class="value">{format!("{:.1} %", 100.0 * probability)}</span>
                    {delta
                        .map(|delta| {
                            view! {
                                <span class="delta" class:down=delta < 0.0>
                                    {format!("{:+.1}", 100.0 * delta)}
                                </span>
                            }
                        })}
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="model-column" id=format!("{key}-column")>
            <h3>{heading}</h3>
            <p class="prediction" id=format!("{key}-predicted") data-class=predicted.to_string()>
                "predicts "
                <strong>{predicted_name}</strong>
                {format!(
                    " ({:.1} %)",
                    100.0 * result.probabilities.get(predicted).copied().unwrap_or_default(),
                )}
            </p>
            <div class="bars" id=format!("{key}-probs") data-probs=probabilities_json>
                {rows}
            </div>
            <p class="timing" id=format!("{key}-ms") data-ms=format!("{:.4}", result.milliseconds)>
                {format!("inference: {:.2} ms", result.milliseconds)}
            </p>
        </div>
    }
}

/// The run's metrics next to Retrain's, and per-class test accuracy before/after.
#[component]
fn Metrics(state: DemoState) -> impl IntoView {
    move || {
        let Some(Ok(catalog)) = state.catalog.get() else {
            return ().into_any();
        };
        let original_id = state.original.get().unwrap_or_default();
        let classes = state.forgotten.get();
        let Some(original) = catalog.find(&original_id).cloned() else {
            return ().into_any();
        };
        let unlearned = state
            .unlearned
            .get()
            .and_then(|id| catalog.find(&id).cloned());
        let retrain = catalog.retrain_for(&original_id, &classes).cloned();
        let mut rows: Vec<CatalogRun> = Vec::new();
        if let Some(run) = &unlearned {
            rows.push(run.clone());
        }
        if let Some(run) = &retrain
            && unlearned
                .as_ref()
                .is_none_or(|unlearned| unlearned.id != run.id)
        {
            rows.push(run.clone());
        }
        let header = METRICS
            .iter()
            .map(|metric| view! { <th title=metric.explanation>{metric.label}</th> })
            .collect_view();
        let body = rows
            .iter()
            .map(|run| {
                let cells = METRICS
                    .iter()
                    .map(|metric| {
                        let text = run
                            .metrics
                            .get(metric.key)
                            .map(|value| format!("{value:.2}"))
                            .unwrap_or_else(|| String::from("–"));
                        view! { <td data-metric=metric.key>{text}</td> }
                    })
                    .collect_view();
                view! {
                    <tr>
                        <th scope="row" title=run.note.clone()>{run.method_name.clone()}</th>
                        {cells}
                    </tr>
                }
            })
            .collect_view();
        // How each row was made (method, epochs, data, where its time was measured): rows made
        // on different budgets (e.g. a short demo run beside a full Retrain) compare only so far.
        // With no row yet (no run forgot these classes), the page says so instead of listing none.
        let provenance_intro = if rows.is_empty() {
            "No run forgot this selection yet."
        } else {
            "How each row was made:"
        };
        let provenance = (!rows.is_empty()).then(|| {
            let items = rows
                .iter()
                .map(|run| {
                    view! {
                        <li data-run=run.id.clone()>
                            <strong>{run.method_name.clone()}</strong>
                            {format!(": {}", run.note)}
                        </li>
                    }
                })
                .collect_view();
            view! { <ul class="run-notes" id="run-notes">{items}</ul> }
        });
        let explanations = METRICS
            .iter()
            .map(|metric| view! { <li><strong>{metric.label}</strong>" — "{metric.explanation}</li> })
            .collect_view();
        let chart = unlearned
            .as_ref()
            .map(|run| per_class_chart(&original, run, &classes));
        view! {
            <table id="metrics-table">
                <thead>
                    <tr>
                        <th>"method"</th>
                        {header}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
            <p class="note">
                {format!(
                    "Original model: {:.2} % test accuracy. Retrain (training from scratch without the forgotten class) is the gold standard: a good method lands close to a Retrain made on the same data budget. {provenance_intro}",
                    original.metrics.get("test_accuracy").copied().unwrap_or(f64::NAN),
                )}
            </p>
            {provenance}
            <ul class="explanations">{explanations}</ul>
            {chart}
        }
        .into_any()
    }
}

/// Grouped SVG bars: each class's test accuracy under the original and the unlearned model.
fn per_class_chart(
    original: &CatalogRun,
    unlearned: &CatalogRun,
    forgotten: &[u8],
) -> impl IntoView {
    const WIDTH: f64 = 560.0;
    const HEIGHT: f64 = 220.0;
    const TOP: f64 = 20.0;
    const BOTTOM: f64 = 40.0;
    const LEFT: f64 = 36.0;
    let names = original.model.dataset.class_names();
    let slot = (WIDTH - LEFT) / names.len() as f64;
    let plot = HEIGHT - TOP - BOTTOM;
    let bar = |accuracy: Option<f64>, x: f64, class: &'static str| {
        let value = accuracy.unwrap_or(0.0).clamp(0.0, 100.0);
        let height = plot * value / 100.0;
        view! {
            <rect
                class=class
                x=format!("{x:.1}")
                y=format!("{:.1}", TOP + plot - height)
                width=format!("{:.1}", slot * 0.36)
                height=format!("{height:.1}")
            >
                <title>{format!("{value:.1} %")}</title>
            </rect>
        }
    };
    let groups = names
        .iter()
        .enumerate()
        .map(|(class, name)| {
            let x = LEFT + slot * class as f64;
            let is_forgotten = u8::try_from(class).is_ok_and(|class| forgotten.contains(&class));
            let before = original.per_class_accuracy.get(class).copied().flatten();
            let after = unlearned.per_class_accuracy.get(class).copied().flatten();
            view! {
                <g class:forgotten=is_forgotten>
                    {bar(before, x + slot * 0.12, "before")}
                    {bar(after, x + slot * 0.5, "after")}
                    <text
                        x=format!("{:.1}", x + slot / 2.0)
                        y=format!("{:.1}", HEIGHT - BOTTOM + 14.0)
                        text-anchor="middle"
                    >
                        {*name}
                    </text>
                </g>
            }
        })
        .collect_view();
    let ticks = [0, 50, 100]
        .into_iter()
        .map(|tick| {
            let y = TOP + plot - plot * f64::from(tick) / 100.0;
            view! {
                <g class="tick">
                    <line x1=format!("{LEFT:.1}") x2=format!("{WIDTH:.1}") y1=format!("{y:.1}") y2=format!("{y:.1}") />
                    <text x="2" y=format!("{:.1}", y + 4.0)>{format!("{tick}%")}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg id="per-class-chart" viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img">
                {ticks}
                {groups}
                <g class="legend">
                    <rect class="before" x="40" y="2" width="10" height="10"></rect>
                    <text x="54" y="11">"original"</text>
                    <rect class="after" x="120" y="2" width="10" height="10"></rect>
                    <text x="134" y="11">{unlearned.method_name.clone()}</text>
                </g>
            </svg>
            <figcaption>
                "Per-class test accuracy before and after forgetting (forgotten class in red)."
            </figcaption>
        </figure>
    }
}

/// "Forget it live": PruneLoRA run in the page (a Web Worker), with its progress, loss curve,
/// probe accuracy and the followed picture's probabilities updating step by step.
#[component]
fn LivePanel(state: DemoState, live: LiveState) -> impl IntoView {
    let steps = RwSignal::new(LiveSettings::page_default(3).steps);
    let prune = RwSignal::new(LiveSettings::page_default(3).prune_amount);
    // Follow the picture the gallery shows, also while training.
    Effect::new(move |_| {
        if let Some(image) = state.image.get()
            && live.phase.get_untracked().is_active()
        {
            live.follow_image(&image.prepared.planar);
        }
    });
    let start = move |_| {
        let Some(Ok(catalog)) = state.catalog.get_untracked() else {
            return;
        };
        let Some(original) = state
            .original
            .get_untracked()
            .and_then(|id| catalog.find(&id).cloned())
        else {
            return;
        };
        let class = live.class.get_untracked();
        let native = catalog
            .runs_forgetting(&original.id, &[class])
            .into_iter()
            .find(|run| run.method == "prunelora")
            .cloned();
        let image = state
            .image
            .get_untracked()
            .map(|image| image.prepared.planar)
            .unwrap_or_default();
        let mut settings = LiveSettings::page_default(class);
        settings.steps = steps.get_untracked();
        settings.prune_amount = prune.get_untracked();
        live.start(&original, native.as_ref(), &image, &settings);
    };
    let available = move || {
        state
            .catalog
            .get()
            .and_then(Result::ok)
            .is_some_and(|_| state.dataset() == DatasetKind::Cifar10)
    };
    view! {
        <section class="live" id="live" data-phase=move || live.phase.get().label()>
            <h2>"4 · Forget it live"</h2>
            <p class="hint">
                "Your browser runs PruneLoRA itself: it prunes the original ResNet's weakest channels, attaches LoRA adapters to its later residual blocks and fine-tunes them on "
                // The count is known once a run has started (the worker reports it); until
                // then, say what the images are without guessing how many.
                {move || match live.retain_images.get() {
                    0 => "a few hundred".to_owned(),
                    count => count.to_string(),
                }}
                " real CIFAR-10 training images of the classes it keeps — in a background worker, so the page stays usable."
            </p>
            <Show when=available fallback=|| view! { <p class="hint">"Live forgetting runs on the CIFAR-10 ResNet-20: pick it above."</p> }>
                <div class="live-controls">
                    <label>
                        "Forget "
                        <select
                            id="live-class"
                            prop:disabled=move || live.phase.get().is_active()
                            on:change=move |event| {
                                if let Ok(class) = event_target_value(&event).parse() {
                                    live.class.set(class);
                                }
                            }
                        >
                            {DatasetKind::Cifar10
                                .class_names()
                                .iter()
                                .enumerate()
                                .map(|(class, name)| {
                                    view! { <option value=class.to_string() selected=class == 3>{*name}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <label>
                        "steps "
                        <input
                            id="live-steps"
                            type="number"
                            min="1"
                            max="2000"
                            prop:value=move || steps.get().to_string()
                            prop:disabled=move || live.phase.get().is_active()
                            on:change=move |event| {
                                if let Ok(value) = event_target_value(&event).parse::<usize>() {
                                    steps.set(value.clamp(1, 2000));
                                }
                            }
                        />
                    </label>
                    <label>
                        "pruned "
                        <select
                            id="live-prune"
                            prop:disabled=move || live.phase.get().is_active()
                            on:change=move |event| {
                                if let Ok(value) = event_target_value(&event).parse::<f64>() {
                                    prune.set(value);
                                }
                            }
                        >
                            {[0.2, 0.3, 0.5]
                                .into_iter()
                                .map(|amount| {
                                    let label = if amount == 0.5 {
                                        String::from("50 % (the paper's; needs far more steps)")
                                    } else {
                                        format!("{:.0} %", amount * 100.0)
                                    };
                                    let default = amount == LiveSettings::page_default(3).prune_amount;
                                    view! { <option value=amount.to_string() selected=default>{label}</option> }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <button id="live-start" on:click=start prop:disabled=move || live.phase.get().is_active()>"Forget"</button>
                    <button id="live-pause" on:click=move |_| live.pause() prop:disabled=move || live.phase.get() != LivePhase::Running>"Pause"</button>
                    <button id="live-resume" on:click=move |_| live.resume() prop:disabled=move || live.phase.get() != LivePhase::Paused>"Resume"</button>
                    <button id="live-cancel" on:click=move |_| live.cancel() prop:disabled=move || !live.phase.get().is_active()>"Stop"</button>
                    <button id="live-reset" on:click=move |_| live.reset()>"Reset"</button>
                </div>
                <LiveProgress live />
            </Show>
        </section>
    }
}

/// The live run's progress, curve, probe accuracy and the followed picture's bars.
#[component]
fn LiveProgress(live: LiveState) -> impl IntoView {
    let percent = |value: f64| format!("{value:.1} %");
    view! {
        <div class="live-progress">
            <p id="live-status">
                {move || match live.phase.get() {
                    LivePhase::Idle => String::from("Pick a class and press Forget."),
                    LivePhase::Preparing => String::from("Loading the training images and pruning…"),
                    LivePhase::Running | LivePhase::Paused | LivePhase::Finished => format!(
                        "step {} / {} · {:.1} s of training",
                        live.step.get(),
                        live.total_steps.get(),
                        live.training_ms.get() / 1000.0
                    ),
                    LivePhase::Cancelled => format!("Stopped at step {}; the page's models are untouched.", live.step.get()),
                    LivePhase::Failed(message) => format!("Live forgetting failed: {message}"),
                }}
            </p>
            {move || live.backend.get().map(|backend| {
                let label = backend.clone();
                view! { <p id="live-backend" class="hint" data-backend=label>"training on "{backend}</p> }
            })}
            <progress
                id="live-bar"
                max=move || live.total_steps.get().max(1).to_string()
                value=move || live.step.get().to_string()
            ></progress>
            <div class="live-charts">
                <figure>
                    <svg viewBox="0 0 300 100" class="loss-curve" role="img" aria-label="training loss per step">
                        <polyline points=move || live.losses.with(|losses| curve_points(losses, 300.0, 100.0)) />
                    </svg>
                    <figcaption>
                        "loss per step"
                        {move || live.losses.with(|losses| losses.last().map(|loss| format!(" (now {loss:.3})")))}
                    </figcaption>
                </figure>
                <table id="live-probe">
                    <thead>
                        <tr><th></th><th>"forgotten class"</th><th>"other classes"</th></tr>
                    </thead>
                    <tbody>
                        {move || live.original.get().map(|original| view! {
                            <tr><th scope="row">"original"</th><td>{percent(original.forget)}</td><td>{percent(original.retain)}</td></tr>
                        })}
                        {move || live.probes.with(|probes| probes.first().copied()).map(|pruned| view! {
                            <tr><th scope="row">"after pruning"</th><td>{percent(pruned.accuracy.forget)}</td><td>{percent(pruned.accuracy.retain)}</td></tr>
                        })}
                        {move || live.latest_probe().filter(|point| point.step > 0).map(|point| view! {
                            <tr id="live-now" data-step=point.step.to_string() data-forget=point.accuracy.forget.to_string() data-retain=point.accuracy.retain.to_string()>
                                <th scope="row">{format!("live, step {}", point.step)}</th>
                                <td>{percent(point.accuracy.forget)}</td>
                                <td>{percent(point.accuracy.retain)}</td>
                            </tr>
                        })}
                        {move || live.native.get().map(|native| view! {
                            <tr id="live-native"><th scope="row">"shipped native run"</th><td>{percent(native.forget)}</td><td>{percent(native.retain)}</td></tr>
                        })}
                    </tbody>
                    <caption>
                        {move || live.original.get().map(|original| format!(
                            "accuracy on {} test images of the forgotten class and {} of the others (never trained on)",
                            original.forget_images, original.retain_images
                        ))}
                    </caption>
                </table>
                <div class="live-bars" id="live-bars">
                    {move || live.probabilities.with(|probabilities| {
                        probabilities
                            .iter()
                            .enumerate()
                            .map(|(class, &probability)| {
                                let name = DatasetKind::Cifar10.class_names().get(class).copied().unwrap_or("?");
                                let forgotten = class == usize::from(live.class.get());
                                view! {
                                    <div class="live-bar" class:forgotten=forgotten>
                                        <span class="label">{name}</span>
                                        <span class="bar" style=format!("width: {:.1}%", probability * 100.0)></span>
                                        <span class="value">{format!("{:.1} %", probability * 100.0)}</span>
                                    </div>
                                }
                            })
                            .collect_view()
                    })}
                </div>
            </div>
        </div>
    }
}
