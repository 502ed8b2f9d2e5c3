//! SVG plots for unlearning reports: per-class test accuracy as grouped bars, and histograms of
//! true-class confidence on the forget set versus unseen test images (what a membership-inference
//! attack sees).
//!
//! Every plot is rendered into memory first and then written to a temporary file next to the
//! target, which is renamed into place, so a failed draw never leaves a half-written file.

use std::ffi::OsString;
use std::fmt::Display;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Errors while drawing a plot.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// plotters failed (message of the underlying error).
    #[error("drawing {path}: {message}")]
    Draw {
        /// The file that was being written.
        path: String,
        /// The underlying error's message.
        message: String,
    },
    /// Input that cannot be plotted (e.g. no series, mismatched lengths, empty data).
    #[error("cannot plot {what}: {reason}")]
    BadInput {
        /// Which input was rejected.
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },
}

/// One bar group series: a name (e.g. "original", "prunelora") and one accuracy in percent per
/// class; `None` for a class with no test images (draw nothing for it).
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSeries {
    /// Legend name of the series (usually the method).
    pub name: String,
    /// Accuracy in percent (0–100) per class, in class order; `None` draws no bar.
    pub accuracy: Vec<Option<f64>>,
}

/// Series colours (the "tab10" palette); series `i` gets `PALETTE[i % PALETTE.len()]`.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of the forget set (D_f) in the confidence histograms.
const FORGET_COLOR: RGBColor = PALETTE[3];
/// Colour of the unseen test set (test_r) in the confidence histograms.
const TEST_COLOR: RGBColor = PALETTE[0];
/// Background band behind forgotten classes in the bar chart.
const HIGHLIGHT_COLOR: RGBColor = RGBColor(255, 235, 160);

/// Font family used for every text element.
const FONT: &str = "sans-serif";

/// Size of the per-class bar chart.
const BAR_SIZE: (u32, u32) = (900, 450);
/// Width of the legend column to the right of the bar chart.
const BAR_LEGEND_WIDTH: u32 = 160;
/// Size of a single confidence histogram.
const HIST_SIZE: (u32, u32) = (640, 400);
/// Size of one panel in the histogram grid.
const PANEL_SIZE: (u32, u32) = (400, 260);
/// Most panels per row in the histogram grid.
const GRID_MAX_COLUMNS: usize = 4;
/// Height of the title strip above the histogram grid.
const GRID_TITLE_HEIGHT: u32 = 40;

/// The colour of series number `i`, cycling through the fixed palette.
fn palette(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Formats any error as a message for [`PlotError::Draw`].
fn msg<E: Display>(e: E) -> String {
    e.to_string()
}

/// Shorthand for a [`PlotError::BadInput`].
fn bad(what: &'static str, reason: impl Into<String>) -> PlotError {
    PlotError::BadInput {
        what,
        reason: reason.into(),
    }
}

/// Shorthand for a [`PlotError::Draw`] about `path`.
fn draw_error(path: &Path, message: impl Into<String>) -> PlotError {
    PlotError::Draw {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Renders an SVG of `size` pixels into a string: a white canvas handed to `draw`.
fn render_svg(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<String, String> {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, size).into_drawing_area();
        root.fill(&WHITE).map_err(msg)?;
        draw(&root)?;
        root.present().map_err(msg)?;
    }
    Ok(buf)
}

/// Writes `contents` to `path` atomically: a temporary file in the same directory, then a rename.
fn write_atomic(path: &Path, contents: &str) -> Result<(), PlotError> {
    let file_name = path.file_name().ok_or_else(|| {
        bad(
            "output path",
            format!("{} has no file name", path.display()),
        )
    })?;
    let mut tmp_name = OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp: PathBuf = path.with_file_name(tmp_name);
    if let Err(e) = std::fs::write(&tmp, contents) {
        // Best effort: a partial temporary file must not linger; the write error is what matters.
        let _ = std::fs::remove_file(&tmp);
        return Err(draw_error(path, format!("writing {}: {e}", tmp.display())));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        draw_error(path, format!("renaming {} into place: {e}", tmp.display()))
    })
}

/// Renders with `draw` and writes the result atomically to `path`.
fn save_svg(
    path: &Path,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> Result<(), String>,
) -> Result<(), PlotError> {
    let svg = render_svg(size, draw).map_err(|m| draw_error(path, m))?;
    write_atomic(path, &svg)
}

/// Grouped bar chart of per-class test accuracy (0–100 %), one group per class (x labels =
/// `class_names`), one coloured bar per series inside each group, a legend, title `title`,
/// y axis "accuracy (%)". Forgotten classes (indices in `highlight`) get a shaded background
/// band (explained in the legend). Writes an SVG file at `path` (write to a temp file in the
/// same directory and rename, so a failed draw leaves nothing half-written).
///
/// # Errors
/// [`PlotError::BadInput`] for no classes, no series, a series whose length differs from
/// `class_names`, an accuracy that is not a number in 0–100, or a `highlight` index out of range;
/// [`PlotError::Draw`] when drawing or writing the file fails.
pub fn per_class_accuracy_svg(
    path: &Path,
    title: &str,
    class_names: &[&str],
    series: &[ClassSeries],
    highlight: &[usize],
) -> Result<(), PlotError> {
    validate_bars(class_names, series, highlight)?;
    save_svg(path, BAR_SIZE, |root| {
        draw_bars(root, title, class_names, series, highlight)
    })
}

/// Checks the bar chart's inputs (see [`per_class_accuracy_svg`]).
fn validate_bars(
    class_names: &[&str],
    series: &[ClassSeries],
    highlight: &[usize],
) -> Result<(), PlotError> {
    if class_names.is_empty() {
        return Err(bad("per-class accuracy", "no classes"));
    }
    if series.is_empty() {
        return Err(bad("per-class accuracy", "no series"));
    }
    for s in series {
        if s.accuracy.len() != class_names.len() {
            return Err(bad(
                "per-class accuracy",
                format!(
                    "series {:?} has {} values for {} classes",
                    s.name,
                    s.accuracy.len(),
                    class_names.len()
                ),
            ));
        }
        if let Some((class, value)) = s
            .accuracy
            .iter()
            .enumerate()
            .find_map(|(i, a)| a.filter(|v| !(0.0..=100.0).contains(v)).map(|v| (i, v)))
        {
            return Err(bad(
                "per-class accuracy",
                format!(
                    "series {:?} has accuracy {value} for class {class}, outside 0-100 %",
                    s.name
                ),
            ));
        }
    }
    if let Some(&i) = highlight.iter().find(|&&i| i >= class_names.len()) {
        return Err(bad(
            "per-class accuracy",
            format!(
                "highlighted class {i} out of range ({} classes)",
                class_names.len()
            ),
        ));
    }
    Ok(())
}

/// Draws the bar chart on `root`: chart on the left, legend column on the right.
fn draw_bars(
    root: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    class_names: &[&str],
    series: &[ClassSeries],
    highlight: &[usize],
) -> Result<(), String> {
    let canvas = root;
    let root = root.titled(title, (FONT, 22)).map_err(msg)?;
    let legend_x = root.dim_in_pixel().0.saturating_sub(BAR_LEGEND_WIDTH);
    let (plot_area, legend_area) = root.split_horizontally(legend_x);

    let n = class_names.len();
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(10)
        .x_label_area_size(28)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..n as f64, 0.0..100.0)
        .map_err(msg)?;

    // Bands first, so that the grid and the bars are drawn over them.
    let bands = highlight.iter().map(|&i| {
        Rectangle::new(
            [(i as f64, 0.0), (i as f64 + 1.0, 100.0)],
            HIGHLIGHT_COLOR.filled(),
        )
    });
    chart.draw_series(bands).map_err(msg)?;

    // The x axis carries class names, drawn below: no numeric x labels.
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.12))
        .x_labels(0)
        .y_labels(11)
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("accuracy (%)")
        .axis_desc_style((FONT, 15))
        .label_style((FONT, 13))
        .draw()
        .map_err(msg)?;
    draw_class_labels(canvas, &chart, class_names)?;

    let group_width = 0.8;
    let bar_width = group_width / series.len() as f64;
    for (j, s) in series.iter().enumerate() {
        let color = palette(j);
        let bars = s.accuracy.iter().enumerate().filter_map(|(i, a)| {
            a.map(|acc| {
                let x0 = i as f64 + (1.0 - group_width) / 2.0 + j as f64 * bar_width;
                Rectangle::new([(x0, 0.0), (x0 + bar_width, acc)], color.filled())
            })
        });
        chart.draw_series(bars).map_err(msg)?;
    }

    let mut entries: Vec<(&str, RGBColor)> = series
        .iter()
        .enumerate()
        .map(|(j, s)| (s.name.as_str(), palette(j)))
        .collect();
    if !highlight.is_empty() {
        entries.push(("forgotten class", HIGHLIGHT_COLOR));
    }
    draw_legend(&legend_area, &entries)
}

/// Draws the class names centred under their bar groups, shrinking the font when names are long
/// or classes many, so that neighbouring labels do not overlap.
fn draw_class_labels(
    canvas: &DrawingArea<SVGBackend<'_>, Shift>,
    chart: &ChartContext<'_, SVGBackend<'_>, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    class_names: &[&str],
) -> Result<(), String> {
    let n = class_names.len();
    let (left, _) = chart.backend_coord(&(0.0, 0.0));
    let (right, _) = chart.backend_coord(&(n as f64, 0.0));
    let spacing = f64::from(right - left) / n as f64;
    let longest = class_names
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(1)
        .max(1);
    // An average glyph of a sans-serif font is a little over half an em wide.
    let size = (spacing * 0.95 / (0.55 * longest as f64)).clamp(9.0, 14.0);
    let style = TextStyle::from((FONT, size).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, name) in class_names.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        canvas
            .draw(&Text::new(name.to_string(), (x, y + 8), style.clone()))
            .map_err(msg)?;
    }
    Ok(())
}

/// Draws a legend (colour swatch and name per entry) down a column of its own.
fn draw_legend(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[(&str, RGBColor)],
) -> Result<(), String> {
    let style = TextStyle::from((FONT, 14).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
    for (k, (name, color)) in entries.iter().enumerate() {
        let y = 30 + 24 * k as i32;
        area.draw(&Rectangle::new([(8, y - 7), (22, y + 7)], color.filled()))
            .map_err(msg)?;
        area.draw(&Rectangle::new([(8, y - 7), (22, y + 7)], BLACK.mix(0.4)))
            .map_err(msg)?;
        area.draw(&Text::new(name.to_string(), (30, y), style.clone()))
            .map_err(msg)?;
    }
    Ok(())
}

/// Share of `values` (in %) falling into each of `bins` equal-width bins over [0, 1]; the value 1
/// falls into the last bin. The result sums to 100.
///
/// # Errors
/// [`PlotError::BadInput`] for zero bins, no values, or a value that is NaN or outside [0, 1].
fn histogram_percent(values: &[f32], bins: usize) -> Result<Vec<f64>, PlotError> {
    if bins == 0 {
        return Err(bad("confidence histogram", "zero bins"));
    }
    if values.is_empty() {
        return Err(bad("confidence histogram", "no values"));
    }
    let mut counts = vec![0usize; bins];
    for &v in values {
        if !(0.0..=1.0).contains(&v) {
            return Err(bad(
                "confidence histogram",
                format!("confidence {v} is not in [0, 1]"),
            ));
        }
        let bin = ((f64::from(v) * bins as f64).floor() as usize).min(bins - 1);
        counts[bin] += 1;
    }
    let total = values.len() as f64;
    Ok(counts
        .into_iter()
        .map(|c| c as f64 * 100.0 / total)
        .collect())
}

/// The normalised histograms of one panel: forget set and unseen test set.
struct MiaHistograms {
    forget: Vec<f64>,
    test_retain: Vec<f64>,
}

impl MiaHistograms {
    /// Bins both sets (see [`histogram_percent`]).
    fn new(forget: &[f32], test_retain: &[f32], bins: usize) -> Result<Self, PlotError> {
        Ok(Self {
            forget: histogram_percent(forget, bins)
                .map_err(|e| with_context(e, "forget (D_f) confidences"))?,
            test_retain: histogram_percent(test_retain, bins)
                .map_err(|e| with_context(e, "test_r confidences"))?,
        })
    }
}

/// Prefixes a [`PlotError::BadInput`] reason with which set it came from.
fn with_context(e: PlotError, set: &str) -> PlotError {
    match e {
        PlotError::BadInput { what, reason } => PlotError::BadInput {
            what,
            reason: format!("{set}: {reason}"),
        },
        other => other,
    }
}

/// The outline of a histogram as a step line from (0, 0) to (1, 0).
fn step_points(percent: &[f64]) -> Vec<(f64, f64)> {
    let width = 1.0 / percent.len() as f64;
    let mut points = Vec::with_capacity(2 * percent.len() + 2);
    points.push((0.0, 0.0));
    for (i, &p) in percent.iter().enumerate() {
        points.push((i as f64 * width, p));
        points.push(((i + 1) as f64 * width, p));
    }
    points.push((1.0, 0.0));
    points
}

/// Draws one MIA confidence panel: both histograms as translucent bars with a step outline,
/// axes and a legend. Shared by the single histogram and the grid.
fn draw_mia_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    title_size: u32,
    hist: &MiaHistograms,
) -> Result<(), String> {
    let peak = hist
        .forget
        .iter()
        .chain(&hist.test_retain)
        .fold(0.0f64, |a, &b| a.max(b));
    // Headroom for the legend, which goes into the upper corner over the lower histogram side.
    let y_max = (peak * 1.3).max(1.0);
    let side = |range: std::ops::Range<usize>| {
        range
            .filter_map(|i| Some(hist.forget.get(i)?.max(*hist.test_retain.get(i)?)))
            .fold(0.0f64, f64::max)
    };
    let bins = hist.forget.len();
    let legend_position = if side(0..bins.div_ceil(3)) <= side(bins - bins / 3..bins) {
        SeriesLabelPosition::UpperLeft
    } else {
        SeriesLabelPosition::UpperRight
    };
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, title_size))
        .margin(8)
        .x_label_area_size(38)
        .y_label_area_size(48)
        .build_cartesian_2d(0.0..1.0, 0.0..y_max)
        .map_err(msg)?;
    chart
        .configure_mesh()
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.1))
        .x_labels(6)
        .y_labels(6)
        .y_label_formatter(&|v| {
            if y_max >= 5.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.1}")
            }
        })
        .x_desc("true-class confidence")
        .y_desc("share of set (%)")
        .axis_desc_style((FONT, 13))
        .label_style((FONT, 12))
        .draw()
        .map_err(msg)?;

    let sets = [
        (&hist.forget, "D_f (forget)", FORGET_COLOR),
        (&hist.test_retain, "test_r (unseen)", TEST_COLOR),
    ];
    for (percent, label, color) in sets {
        let width = 1.0 / percent.len() as f64;
        let bars = percent.iter().enumerate().map(|(i, &p)| {
            Rectangle::new(
                [(i as f64 * width, 0.0), ((i + 1) as f64 * width, p)],
                color.mix(0.25).filled(),
            )
        });
        chart.draw_series(bars).map_err(msg)?;
        chart
            .draw_series(LineSeries::new(step_points(percent), color.stroke_width(2)))
            .map_err(msg)?
            .label(label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(legend_position)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .label_font((FONT, 12))
        .draw()
        .map_err(msg)?;
    Ok(())
}

/// Overlaid histograms (as step lines or semi-transparent bars) of true-class confidence in [0, 1]
/// for two sample sets: `forget` (D_f, label "D_f (forget)") and `test_retain` (test_r, label "test_r (unseen)"),
/// `bins` equal-width bins over [0, 1], y = share of the set in % (normalised so sets of different sizes compare),
/// title `title`, legend. Values outside [0,1] or NaN are a BadInput error. Same atomic write.
///
/// # Errors
/// [`PlotError::BadInput`] for zero bins, an empty set, or a confidence that is NaN or outside
/// [0, 1]; [`PlotError::Draw`] when drawing or writing the file fails.
pub fn mia_confidence_histogram_svg(
    path: &Path,
    title: &str,
    forget: &[f32],
    test_retain: &[f32],
    bins: usize,
) -> Result<(), PlotError> {
    let hist = MiaHistograms::new(forget, test_retain, bins)?;
    save_svg(path, HIST_SIZE, |root| {
        draw_mia_panel(root, title, 20, &hist)
    })
}

/// Several MIA histograms in a grid, one panel per method: `panels` = (method name, forget confidences, test_r confidences).
/// Same styling as above, one SVG. Used by `lethe compare`.
///
/// # Errors
/// [`PlotError::BadInput`] for no panels or any panel that [`mia_confidence_histogram_svg`] would
/// reject; [`PlotError::Draw`] when drawing or writing the file fails.
pub fn mia_histogram_grid_svg(
    path: &Path,
    title: &str,
    panels: &[(String, Vec<f32>, Vec<f32>)],
    bins: usize,
) -> Result<(), PlotError> {
    if panels.is_empty() {
        return Err(bad("MIA histogram grid", "no panels"));
    }
    let hists = panels
        .iter()
        .map(|(name, forget, test_retain)| {
            MiaHistograms::new(forget, test_retain, bins).map_err(|e| with_context(e, name))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let columns = panels.len().min(GRID_MAX_COLUMNS);
    let rows = panels.len().div_ceil(columns);
    let size = (
        PANEL_SIZE.0 * columns as u32,
        PANEL_SIZE.1 * rows as u32 + GRID_TITLE_HEIGHT,
    );
    save_svg(path, size, |root| {
        let (title_area, grid) = root.split_vertically(GRID_TITLE_HEIGHT);
        title_area
            .titled(title, (FONT, 22))
            .map(|_| ())
            .map_err(msg)?;
        let cells = grid.split_evenly((rows, columns));
        for (cell, ((name, _, _), hist)) in cells.iter().zip(panels.iter().zip(&hists)) {
            draw_mia_panel(cell, name, 16, hist)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    fn series(name: &str, accuracy: Vec<Option<f64>>) -> ClassSeries {
        ClassSeries {
            name: name.to_string(),
            accuracy,
        }
    }

    /// No file other than `keep` is left in `dir` (in particular no temporary file).
    fn only_file(dir: &Path, keep: &str) {
        let names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![keep.to_string()]);
    }

    #[test]
    fn histogram_percent_hand_worked() {
        let h = histogram_percent(&[0.0, 0.1, 0.55, 1.0], 2).unwrap();
        assert_eq!(h, vec![50.0, 50.0]);
        let h = histogram_percent(&[0.0, 0.1, 0.55, 1.0], 4).unwrap();
        assert_eq!(h, vec![50.0, 0.0, 25.0, 25.0]);
        let h = histogram_percent(&[0.3, 0.31, 0.99], 10).unwrap();
        assert!((h.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        assert!((h[3] - 200.0 / 3.0).abs() < 1e-9);
        assert!((h[9] - 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn histogram_percent_rejects_bad_input() {
        for (values, bins) in [
            (vec![0.5, f32::NAN], 10),
            (vec![1.5], 10),
            (vec![-0.01], 10),
            (vec![], 10),
            (vec![0.5], 0),
        ] {
            assert!(
                matches!(
                    histogram_percent(&values, bins),
                    Err(PlotError::BadInput { .. })
                ),
                "{values:?} with {bins} bins"
            );
        }
    }

    #[test]
    fn step_points_outline() {
        assert_eq!(
            step_points(&[10.0, 90.0]),
            vec![
                (0.0, 0.0),
                (0.0, 10.0),
                (0.5, 10.0),
                (0.5, 90.0),
                (1.0, 90.0),
                (1.0, 0.0)
            ]
        );
    }

    #[test]
    fn palette_cycles() {
        assert_eq!(palette(0), palette(PALETTE.len()));
        assert_ne!(palette(0), palette(1));
    }

    #[test]
    fn per_class_svg_has_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acc.svg");
        let classes = ["airplane", "cat", "truck"];
        let s = [
            series("original", vec![Some(91.0), Some(80.5), Some(95.0)]),
            series("prunelora", vec![Some(89.0), Some(0.0), None]),
            series("retrain", vec![Some(90.0), Some(1.5), Some(100.0)]),
        ];
        per_class_accuracy_svg(&path, "Per-class accuracy", &classes, &s, &[1]).unwrap();
        let svg = read(&path);
        assert!(svg.contains("<svg"));
        for text in [
            "airplane",
            "cat",
            "truck",
            "original",
            "prunelora",
            "retrain",
            "accuracy (%)",
            "Per-class accuracy",
            "forgotten class",
        ] {
            assert!(svg.contains(text), "missing {text:?}");
        }
        only_file(dir.path(), "acc.svg");
    }

    #[test]
    fn per_class_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acc.svg");
        let classes = ["a", "b"];
        let cases: [(&[&str], Vec<ClassSeries>, Vec<usize>); 5] = [
            (&classes, vec![series("short", vec![Some(1.0)])], vec![]),
            (&classes, vec![], vec![]),
            (&[], vec![series("x", vec![])], vec![]),
            (&classes, vec![series("x", vec![Some(1.0), None])], vec![2]),
            (
                &classes,
                vec![series("x", vec![Some(f64::NAN), None])],
                vec![],
            ),
        ];
        for (names, s, highlight) in cases {
            let r = per_class_accuracy_svg(&path, "t", names, &s, &highlight);
            assert!(matches!(r, Err(PlotError::BadInput { .. })), "{r:?}");
        }
        assert!(!path.exists());
    }

    #[test]
    fn mia_histogram_svg_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mia.svg");
        let forget: Vec<f32> = (0..200).map(|i| 0.5 + i as f32 / 400.0).collect();
        let test: Vec<f32> = (0..57).map(|i| i as f32 / 56.0).collect();
        mia_confidence_histogram_svg(&path, "MIA confidence", &forget, &test, 20).unwrap();
        let svg = read(&path);
        assert!(svg.contains("<svg"));
        for text in [
            "MIA confidence",
            "D_f (forget)",
            "test_r (unseen)",
            "true-class confidence",
            "share of set (%)",
        ] {
            assert!(svg.contains(text), "missing {text:?}");
        }
        only_file(dir.path(), "mia.svg");
    }

    #[test]
    fn mia_histogram_rejects_nan_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mia.svg");
        let r = mia_confidence_histogram_svg(&path, "t", &[0.2, f32::NAN], &[0.5], 10);
        assert!(matches!(r, Err(PlotError::BadInput { .. })), "{r:?}");
        let r = mia_confidence_histogram_svg(&path, "t", &[0.2], &[1.01], 10);
        assert!(matches!(r, Err(PlotError::BadInput { .. })), "{r:?}");
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
    }

    #[test]
    fn mia_grid_svg_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grid.svg");
        let panels: Vec<(String, Vec<f32>, Vec<f32>)> =
            ["original", "retrain", "prunelora", "ssd", "scrub"]
                .iter()
                .enumerate()
                .map(|(k, name)| {
                    let forget = (0..50)
                        .map(|i| (i as f32 / 49.0).powf(0.2 + k as f32))
                        .collect();
                    let test = (0..80).map(|i| i as f32 / 79.0).collect();
                    (name.to_string(), forget, test)
                })
                .collect();
        mia_histogram_grid_svg(&path, "MIA grid", &panels, 10).unwrap();
        let svg = read(&path);
        assert!(svg.contains("<svg"));
        assert!(svg.contains("width=\"1600\""), "4 columns of 400 px");
        for text in [
            "MIA grid",
            "original",
            "retrain",
            "prunelora",
            "ssd",
            "scrub",
            "D_f (forget)",
        ] {
            assert!(svg.contains(text), "missing {text:?}");
        }
        only_file(dir.path(), "grid.svg");
    }

    #[test]
    fn mia_grid_rejects_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grid.svg");
        let r = mia_histogram_grid_svg(&path, "t", &[], 10);
        assert!(matches!(r, Err(PlotError::BadInput { .. })), "{r:?}");
        let panels = vec![("m".to_string(), vec![0.5], vec![f32::NAN])];
        let r = mia_histogram_grid_svg(&path, "t", &panels, 10);
        match r {
            Err(PlotError::BadInput { reason, .. }) => assert!(reason.contains('m'), "{reason}"),
            other => panic!("expected BadInput, got {other:?}"),
        }
        assert!(!path.exists());
    }

    #[test]
    fn draw_error_for_missing_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("mia.svg");
        let r = mia_confidence_histogram_svg(&path, "t", &[0.5], &[0.5], 4);
        assert!(matches!(r, Err(PlotError::Draw { .. })), "{r:?}");
    }
}
