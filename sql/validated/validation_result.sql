-- validation_result: one row per failing record of one validation rule in the
-- latest run, errors and warnings alike. A run that has an error publishes
-- nothing, so a published file holds warnings only.
create table if not exists validation_result (
    run_id varchar not null,          -- the Dagster run that validated
    check_name varchar not null,      -- the rule, e.g. 'percent_in_range'
    severity varchar not null,        -- 'error' | 'warning'
    table_name varchar not null,      -- the table holding the record, e.g. 'kpi_value'
    record_key varchar not null,      -- e.g. 'otaru-2015 025-1 baseline FY2014'
    source_file varchar,              -- path under the input folder
    source_line integer,
    source_column varchar,            -- a column number, or a header such as '目標値'
    value varchar,                    -- the value as written
    message varchar not null          -- Japanese first, English beside
);
