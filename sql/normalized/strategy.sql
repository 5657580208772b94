-- strategy: one row per strategy (総合戦略), from its strategy.toml.
create table strategy (
    strategy_id varchar primary key,
    municipality varchar not null,
    strategy_name varchar not null,
    first_fiscal_year integer not null,
    last_fiscal_year integer not null
);
