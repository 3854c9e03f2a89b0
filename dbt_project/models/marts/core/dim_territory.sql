-- Territories as configured now; their history is kept by the snapshot snap_territory.
with territories as (
    select * from {{ source('raw', 'cfg_territories') }}
),

offices as (
    select * from {{ source('raw', 'cfg_offices') }}
),

history as (
    select * from {{ ref('snap_territory') }}
    where dbt_valid_to is null
),

final as (
    select
        territories.kato,
        territories.office_code,
        territories.level as territory_level,
        territories.parent_kato,
        territories.name_kk as territory_name_kk,
        territories.name_ru as territory_name_ru,
        territories.name_en as territory_name_en,
        (territories.kato = offices.root_kato) as is_office_root,
        history.dbt_valid_from as valid_from
    from territories
    inner join offices
        on territories.office_code = offices.office_code
    left join history
        on territories.kato = history.kato
)

select * from final
