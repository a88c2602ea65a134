WITH credo_points AS (
  SELECT
    *,
    CASE
      WHEN `housing` = 'own' THEN 14
      WHEN `housing` = 'free' THEN -14
      WHEN `housing` = 'rent\'s' THEN -14
      WHEN `housing` IS NULL THEN -3
      ELSE 0
    END AS `points__housing`,
    CASE
      WHEN `income` < CAST(1500.0 AS DOUBLE) THEN -21
      WHEN `income` < CAST(3000.5 AS DOUBLE) THEN 4
      WHEN `income` <= CAST('Infinity' AS DOUBLE) THEN 25
      ELSE -10
    END AS `points__income`,
    CASE
      WHEN `late_payments` < CAST(1.0 AS DOUBLE) THEN 18
      WHEN `late_payments` <= CAST('Infinity' AS DOUBLE) THEN -29
      ELSE 0
    END AS `points__late_payments`
  FROM applicants
)
SELECT
  *,
  `points__housing` AS `dimension__identity`,
  `points__income` AS `dimension__fulfilment_capacity`,
  `points__late_payments` AS `dimension__credit_history`,
  520 + `points__housing` + `points__income` + `points__late_payments` AS `raw_points`,
  LEAST(GREATEST(520 + `points__housing` + `points__income` + `points__late_payments`, 350), 950) AS `score`
FROM credo_points
