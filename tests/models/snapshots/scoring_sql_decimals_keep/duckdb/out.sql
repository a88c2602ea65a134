WITH credo_points AS (
  SELECT
    "person_id",
    CASE
      WHEN "housing" IS NULL THEN -2.75
      WHEN "housing" IN ('own') THEN 14.25
      WHEN "housing" IN ('free', 'rent''s') THEN -13.75
      ELSE 0.25
    END AS "points__housing",
    CASE
      WHEN "income" < 1500.0 THEN -20.75
      WHEN "income" < 3000.5 THEN 4.25
      WHEN "income" <= CAST('Infinity' AS DOUBLE) THEN 25.25
      ELSE -9.75
    END AS "points__income",
    CASE
      WHEN "late_payments" < 1.0 THEN 18.25
      WHEN "late_payments" <= CAST('Infinity' AS DOUBLE) THEN -28.75
      ELSE 0.25
    END AS "points__late_payments"
  FROM read_parquet('data/applicants.parquet')
)
SELECT
  "person_id",
  "points__housing",
  "points__income",
  "points__late_payments",
  520.50 + "points__housing" + "points__income" + "points__late_payments" AS "raw_points",
  LEAST(GREATEST(520.50 + "points__housing" + "points__income" + "points__late_payments", 350.00), 950.00) AS "score"
FROM credo_points
