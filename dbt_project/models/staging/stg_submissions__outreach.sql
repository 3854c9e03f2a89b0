-- Outreach rows of the current submissions only (docs/ARCHITECTURE.md, "Which submission is current").
with source as (
    select * from {{ source('raw', 'outreach') }}
),

current_forms as (
    select * from {{ ref('int_submission_forms_current') }}
    where form = 'outreach' and is_present
),

renamed as (
    select
        {{ form_row_id('source') }} as outreach_row_id,
        source.submission_id,
        source.sheet as sheet_name,
        cast(source.row_number as integer) as source_row_number,
        current_forms.office_code,
        current_forms.period_id as submission_period_id,
        source.kato,
        cast(source.month as date) as month_start,
        source.direction,
        cast(source.adherents_new as bigint) as adherents_new,
        cast(source.conversations as bigint) as conversations,
        cast(source.conversations_planned as bigint) as conversations_planned
    from source
    inner join current_forms
        on source.submission_id = current_forms.submission_id
)

select * from renamed
