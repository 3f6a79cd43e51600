//! The terminal chart of a window plan: the intensity curve over the job's window as one line of
//! Unicode blocks, the chosen and baseline slots marked beneath it, and the scale and the times
//! labelled. Pure (series and slots in, lines out), so the CLI only prints it.
//!
//! The window `[start, end)` is cut into at most `max_columns` columns of equal time; each column
//! is the time-weighted mean intensity of the series over its span (a column no interval covers,
//! a gap, is blank). The blocks `▁▂▃▄▅▆▇█` scale the columns' min..max (all equal: `▄`). A column
//! is marked `^` (chosen schedule), `-` (baseline, starting at once) or `*` (both) when its
//! midpoint lies in a slot or a slot lies wholly inside it, so a short slot still shows.

use super::{at, ns, shown, shown_duration, Job, Slot, WindowPlan};
use crate::grid::{IntensitySeries, Interval};
use crate::uncertainty::fmt_num;

/// The widest chart the CLI draws, columns.
pub const MAX_COLUMNS: usize = 72;

/// The eight block heights, lowest first.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The chart of a plan made on `series` for `job`: the window is the job's earliest start (or
/// the series' start) to its deadline, cut to the series' end as the planner cuts it.
#[must_use]
pub fn plan_chart(series: &IntensitySeries, job: &Job, plan: &WindowPlan) -> Vec<String> {
    let start = job.earliest.unwrap_or(series.start());
    let end = job.deadline.map_or(series.end(), |d| d.min(series.end()));
    render(
        series.intervals(),
        Slot { start, end },
        &plan.slots,
        &plan.baseline_slots,
        MAX_COLUMNS,
    )
}

/// The chart's lines: the blocks with the scale, the marks with their legend, the window's
/// times with the span of a column. Empty when the window is empty, `max_columns` is 0 or no
/// interval reaches into the window.
#[must_use]
pub fn render(
    intervals: &[Interval],
    window: Slot,
    chosen: &[Slot],
    baseline: &[Slot],
    max_columns: usize,
) -> Vec<String> {
    let (w0, w1) = (ns(window.start), ns(window.end));
    let inside: Vec<&Interval> = intervals
        .iter()
        .filter(|iv| ns(iv.end) > w0 && ns(iv.start) < w1)
        .collect();
    if w1 <= w0 || max_columns == 0 || inside.is_empty() {
        return Vec::new();
    }
    // As many columns as the shortest interval fits in the window (so a gap gets blank columns
    // of its own), at least one per interval shown, at most `max_columns`.
    let shortest = inside
        .iter()
        .map(|iv| ns(iv.end) - ns(iv.start))
        .filter(|&d| d > 0)
        .min()
        .unwrap_or(w1 - w0);
    let by_time = usize::try_from((w1 - w0 + shortest - 1) / shortest).unwrap_or(usize::MAX);
    let cols = by_time.max(inside.len()).min(max_columns);
    #[allow(clippy::cast_possible_wrap)]
    let n = cols as i128;
    let edge = |k: i128| w0 + (w1 - w0) * k / n;
    let spans: Vec<(i128, i128)> = (0..n).map(|k| (edge(k), edge(k + 1))).collect();
    let means = column_means(&inside, &spans);
    let shown_means: Vec<f64> = means.iter().flatten().copied().collect();
    let lo = shown_means.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = shown_means
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let blocks: String = means
        .iter()
        .map(|m| m.map_or(' ', |v| block(v, lo, hi)))
        .collect();
    let marks: String = spans
        .iter()
        .map(
            |&span| match (marked(span, chosen), marked(span, baseline)) {
                (true, true) => '*',
                (true, false) => '^',
                (false, true) => '-',
                (false, false) => ' ',
            },
        )
        .collect();
    let column = at(w0 + (w1 - w0) / n).duration_since(window.start);
    vec![
        format!("{blocks}  {}..{} g/kWh", fmt_num(lo), fmt_num(hi)),
        format!("{marks}  ^ run in, - at once, * both"),
        format!(
            "{} to {}, {} per column",
            shown(window.start),
            shown(window.end),
            shown_duration(column)
        ),
    ]
}

/// Each column's time-weighted mean intensity (`None`: no interval covers any of it), by one
/// sweep over the intervals (in time order) and the columns.
fn column_means(intervals: &[&Interval], spans: &[(i128, i128)]) -> Vec<Option<f64>> {
    let mut first = 0;
    spans
        .iter()
        .map(|&(c0, c1)| {
            while first < intervals.len() && ns(intervals[first].end) <= c0 {
                first += 1;
            }
            let (mut weighted, mut covered) = (0.0, 0.0);
            for iv in intervals[first..].iter().take_while(|iv| ns(iv.start) < c1) {
                let overlap = (ns(iv.end).min(c1) - ns(iv.start).max(c0)).max(0);
                #[allow(clippy::cast_precision_loss)]
                let secs = overlap as f64 / 1e9;
                weighted += iv.intensity.0 * secs;
                covered += secs;
            }
            (covered > 0.0).then(|| weighted / covered)
        })
        .collect()
}

/// The block for `v` on the scale `lo..hi`: the nearest of eight heights.
fn block(v: f64, lo: f64, hi: f64) -> char {
    if hi <= lo {
        return BLOCKS[3];
    }
    let level = ((v - lo) / (hi - lo) * 7.0).round().clamp(0.0, 7.0);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = level as usize;
    BLOCKS[i]
}

/// Whether the column `[c0, c1)` is marked for `slots`: its midpoint lies in one (half-open,
/// so a slot's edge on a midpoint marks one column, not two), or one lies wholly inside it.
fn marked((c0, c1): (i128, i128), slots: &[Slot]) -> bool {
    let mid = c0 + (c1 - c0) / 2;
    slots.iter().any(|s| {
        let (s0, s1) = (ns(s.start), ns(s.end));
        (s0 <= mid && mid < s1) || (s0 >= c0 && s1 <= c1 && s1 > s0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests_support::{hourly, rows, t};

    fn slot(a: f64, b: f64) -> Slot {
        Slot {
            start: t(a),
            end: t(b),
        }
    }

    #[test]
    fn four_hours_in_four_columns_scale_min_to_max_and_mark_the_slots() {
        // 100/300/50/50 on 50..300: (100-50)/250 x 7 = 1.4 -> ▂, 300 -> █, 50 -> ▁.
        let s = hourly(&[100.0, 300.0, 50.0, 50.0]);
        let lines = render(
            s.intervals(),
            slot(0.0, 4.0),
            &[slot(2.0, 4.0)],
            &[slot(0.0, 2.0)],
            4,
        );
        assert_eq!(
            lines,
            [
                "▂█▁▁  50..300 g/kWh",
                "--^^  ^ run in, - at once, * both",
                "2024-03-04T00:00:00Z to 2024-03-04T04:00:00Z, 1h per column",
            ]
        );
    }

    #[test]
    fn columns_are_time_weighted_means_of_their_buckets() {
        // 8 hours in 4 columns of 2 h: (0+100)/2 = 50, (200+200)/2 = 200, 400, (300+100)/2 = 200
        // on 50..400: 50 -> ▁, 200 -> 150/350 x 7 = 3 -> ▄, 400 -> █.
        let s = hourly(&[0.0, 100.0, 200.0, 200.0, 400.0, 400.0, 300.0, 100.0]);
        let lines = render(s.intervals(), slot(0.0, 8.0), &[slot(1.0, 2.0)], &[], 4);
        assert_eq!(lines[0], "▁▄█▄  50..400 g/kWh");
        // A one-hour slot in a two-hour column lies wholly inside it: marked.
        assert_eq!(lines[1], "^     ^ run in, - at once, * both");
        assert!(lines[2].ends_with(", 2h per column"), "{}", lines[2]);
    }

    #[test]
    fn the_window_cuts_the_series_and_overlaps_mark_both() {
        // Window 1..4 of 6 hours: 300, 50, 50 (the 100 and 400 outside); 300 -> █, 50 -> ▁.
        let s = hourly(&[100.0, 300.0, 50.0, 50.0, 400.0, 20.0]);
        let lines = render(
            s.intervals(),
            slot(1.0, 4.0),
            &[slot(2.0, 3.0)],
            &[slot(1.0, 3.0)],
            72,
        );
        assert_eq!(lines[0], "█▁▁  50..300 g/kWh");
        assert_eq!(lines[1], "-*   ^ run in, - at once, * both");
        assert!(lines[2].starts_with("2024-03-04T01:00:00Z to 2024-03-04T04:00:00Z"));
    }

    #[test]
    fn a_slot_edge_on_a_midpoint_marks_one_column_not_two() {
        // 6 hours in 4 columns of 90 min (midpoints 45m, 135m, 225m, 315m): the slot 45m..225m
        // holds the first two midpoints, not the third (its end is exclusive).
        let s = hourly(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let lines = render(s.intervals(), slot(0.0, 6.0), &[slot(0.75, 3.75)], &[], 4);
        assert_eq!(lines[1], "^^    ^ run in, - at once, * both");
    }

    #[test]
    fn a_gap_is_blank_and_a_flat_curve_is_mid_height() {
        // Hours 0-1 and 3-4 at 80, nothing in 1-3: the gap's columns are blank.
        let s = rows(&[(0.0, 1.0, 80.0), (3.0, 4.0, 80.0)]);
        let lines = render(s.intervals(), slot(0.0, 4.0), &[], &[], 4);
        // Hour columns (the shortest interval): the two gap hours are blank (they were hidden in
        // two half-covered 2 h columns before; a hostile test found the gap invisible).
        assert_eq!(lines[0], "▄  ▄  80..80 g/kWh");
        let lines = render(s.intervals(), slot(0.0, 4.0), &[], &[], 72);
        assert_eq!(lines[1], "      ^ run in, - at once, * both");
        let s = rows(&[(0.0, 1.0, 80.0), (1.0, 2.0, 90.0), (3.0, 4.0, 70.0)]);
        let lines = render(s.intervals(), slot(0.0, 4.0), &[], &[], 4);
        // Four hour columns: 80, 90, the gap blank, 70. On 70..90, 80 is half way: ▅.
        assert_eq!(lines[0], "▅█ ▁  70..90 g/kWh");
    }

    #[test]
    fn nothing_to_draw_gives_no_lines() {
        let s = hourly(&[100.0, 200.0]);
        assert!(render(s.intervals(), slot(5.0, 6.0), &[], &[], 72).is_empty());
        assert!(render(s.intervals(), slot(1.0, 1.0), &[], &[], 72).is_empty());
        assert!(render(s.intervals(), slot(0.0, 2.0), &[], &[], 0).is_empty());
    }

    #[test]
    fn a_long_series_is_bucketed_to_at_most_max_columns() {
        let values: Vec<f64> = (0..1000).map(|i| f64::from(i % 17)).collect();
        let s = hourly(&values);
        let lines = render(s.intervals(), slot(0.0, 1000.0), &[], &[], MAX_COLUMNS);
        assert_eq!(
            lines[0].split("  ").next().map(|b| b.chars().count()),
            Some(72)
        );
    }
}
