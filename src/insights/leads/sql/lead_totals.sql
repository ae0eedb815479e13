-- query: the leads that end journeys in a period, attributable or not
-- grain: one row
-- inputs: marts.lineage
-- parameters: $start, $end: leads created in [start, end)
-- placeholders: __is_converted__, __value__ (of a lead's lineage row)
SELECT
    count(*) FILTER (WHERE __is_converted__) AS n_conversions,
    coalesce(sum(__value__) FILTER (WHERE __is_converted__), 0) AS total_value
FROM marts.lineage
WHERE is_lead AND lead_created_at >= $start AND lead_created_at < $end
