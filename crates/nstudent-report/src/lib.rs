//! The study report: one self-contained HTML file and a spreadsheet, built from a metrics table.
