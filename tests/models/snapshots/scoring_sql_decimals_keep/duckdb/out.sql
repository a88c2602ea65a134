WITH credo_points AS (
  SELECT
    "person_id",
    CASE
      WHEN "housing" = 'own' THEN 14.25
      WHEN "housing" = 'free' THEN -13.75
      WHEN "housing" = 'rent''s' THEN -13.75
      WHEN "housing" IS NULL THEN -2.75
      ELSE 0.25
    END AS "points__housing",
    CASE
      WHEN "income" < CAST(1500.0 AS DOUBLE) THEN -20.75
      WHEN "income" < CAST(3000.5 AS DOUBLE) THEN 4.25
      WHEN "income" <= CAST('Infinity' AS DOUBLE) THEN 25.25
      ELSE -9.75
    END AS "points__income",
    CASE
      WHEN "late_payments" < CAST(1.0 AS DOUBLE) THEN 18.25
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
