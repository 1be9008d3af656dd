export { csvCell, csvFileName, type ExportCsvOptions, exportCsv } from './export-csv.js';
