/**
 * τ, the paper's dead zone on evaluator scores: a dimension with |v_d| ≤ τ
 * counts as "no connection". It cuts scores into −1 / 0 / +1 labels, decides
 * which dimensions BaseAlign's masked distance (and so its reward) looks at,
 * and is the default of every `--threshold` flag.
 */
export const VALUE_THRESHOLD = 0.3;
