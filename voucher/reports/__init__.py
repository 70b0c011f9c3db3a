"""Reports: budget use with a forecast, figures per month and quarter, providers and
cost allocation, as pages, CSV and XLSX."""
