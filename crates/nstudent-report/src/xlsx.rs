//! The spreadsheet next to the report: sheet 1 the raw metrics table, sheet 2 the per-task
//! summary (mean and std of every metric for every algorithm), for users who work in Excel or
//! LibreOffice as the original study's users did.

use nstudent_stats::table::{MetricsTable, COLUMNS, METRICS};
use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet,
};

use crate::summary::Summary;
use crate::Result;

/// The spreadsheet's creation time: `SOURCE_DATE_EPOCH` (seconds since 1970, UTC) when it
/// is set and valid, else 2000-01-01.
fn creation_time() -> Result<ExcelDateTime> {
    let epoch = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok());
    Ok(match epoch {
        Some(seconds) => ExcelDateTime::from_timestamp(seconds)
            .or_else(|_| ExcelDateTime::from_ymd(2000, 1, 1))?,
        None => ExcelDateTime::from_ymd(2000, 1, 1)?,
    })
}

/// Name of the first sheet (the raw table).
pub const METRICS_SHEET: &str = "Metrics";
/// Name of the second sheet (the per-task summary).
pub const SUMMARY_SHEET: &str = "Summary";

/// The workbook as xlsx bytes: the same bytes for the same table, whenever it is written.
pub fn workbook(table: &MetricsTable, summary: &Summary) -> Result<Vec<u8>> {
    let mut book = Workbook::new();
    // The document's creation time would otherwise be the time of writing, and a resumed or
    // re-merged study would rewrite a finished study's spreadsheet with other bytes. The
    // time is `SOURCE_DATE_EPOCH` (the reproducible-builds convention) when set, else a
    // fixed date.
    book.set_properties(&DocProperties::new().set_creation_datetime(&creation_time()?));
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xE8EEF4))
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let score = Format::new().set_num_format("0.0000");
    let seconds = Format::new().set_num_format("0.000");
    let number_format = |metric: &str| {
        if crate::format::is_time(metric) {
            &seconds
        } else {
            &score
        }
    };

    let sheet = book.add_worksheet();
    sheet.set_name(METRICS_SHEET)?;
    for (c, name) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *name, &header)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, &row.dataset)?;
        sheet.write_string(r, 1, &row.algorithm)?;
        sheet.write_number(r, 2, row.fold as f64)?;
        sheet.write_string(r, 3, &row.hyperparameters)?;
        for (m, metric) in METRICS.iter().enumerate() {
            let v = row.metric(metric).unwrap_or(f64::NAN);
            write_value(sheet, r, 4 + m as u16, v, number_format(metric))?;
        }
    }
    let widths = [22.0, 24.0, 12.0, 44.0];
    for (c, w) in widths.iter().enumerate() {
        sheet.set_column_width(c as u16, *w)?;
    }
    for m in 0..METRICS.len() {
        sheet.set_column_width(4 + m as u16, 12.0)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, table.rows.len() as u32, COLUMNS.len() as u16 - 1)?;

    let sheet = book.add_worksheet();
    sheet.set_name(SUMMARY_SHEET)?;
    sheet.write_string_with_format(0, 0, "Dataset Name", &header)?;
    sheet.write_string_with_format(0, 1, "Algorithm Name", &header)?;
    sheet.write_string_with_format(0, 2, "Folds", &header)?;
    for (m, metric) in METRICS.iter().enumerate() {
        let c = 3 + 2 * m as u16;
        sheet.write_string_with_format(0, c, format!("{metric} mean"), &header)?;
        sheet.write_string_with_format(0, c + 1, format!("{metric} std"), &header)?;
    }
    let mut r = 1u32;
    for d in 0..summary.datasets.len() {
        let best: Vec<Vec<usize>> = (0..METRICS.len()).map(|m| summary.best(d, m)).collect();
        for a in 0..summary.algorithms.len() {
            let Some(cell) = summary.cell(d, a) else {
                continue;
            };
            sheet.write_string(r, 0, &summary.datasets[d])?;
            sheet.write_string(r, 1, &summary.algorithms[a])?;
            sheet.write_number(r, 2, cell.folds.len() as f64)?;
            for (m, metric) in METRICS.iter().enumerate() {
                let c = 3 + 2 * m as u16;
                let base = number_format(metric);
                let fmt = if best[m].contains(&a) {
                    base.clone().set_bold()
                } else {
                    base.clone()
                };
                write_value(sheet, r, c, cell.mean(m), &fmt)?;
                write_value(sheet, r, c + 1, cell.std(m), base)?;
            }
            r += 1;
        }
    }
    sheet.set_column_width(0, 22.0)?;
    sheet.set_column_width(1, 24.0)?;
    for c in 3..3 + 2 * METRICS.len() as u16 {
        sheet.set_column_width(c, 11.0)?;
    }
    sheet.set_row_height(0, 30.0)?;
    sheet.set_freeze_panes(1, 2)?;
    sheet.autofilter(0, 0, r.saturating_sub(1), 2 + 2 * METRICS.len() as u16)?;

    Ok(book.save_to_buffer()?)
}

/// A number, or an empty cell when it is not finite (Excel has no NaN).
fn write_value(sheet: &mut Worksheet, r: u32, c: u16, v: f64, fmt: &Format) -> Result<()> {
    if v.is_finite() {
        sheet.write_number_with_format(r, c, v, fmt)?;
    } else {
        sheet.write_blank(r, c, fmt)?;
    }
    Ok(())
}
