with source as (
    select * from {{ source('raw', 'submission_issues') }}
),

renamed as (
    select
        submission_id,
        severity,
        sheet as sheet_name,
        cast(row_number as integer) as source_row_number,
        column_letter,
        column_name,
        rule,
        message
    from source
)

select * from renamed
