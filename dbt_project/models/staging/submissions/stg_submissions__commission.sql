-- Commission meetings of every submission, typed (office-wide: kato is the office root; which are
-- current: int_commission_current).
with source as (
    select * from {{ source('raw', 'commission') }}
),

renamed as (
    select
        {{ form_lineage_columns('meeting_id') }},
        cast(source.meeting_date as date) as meeting_date,
        source.body,
        source.chair,
        cast(source.agenda_items as bigint) as agenda_items,
        cast(source.tasks_assigned as bigint) as tasks_assigned
    from source
)

select * from renamed
