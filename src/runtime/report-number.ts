/**
 * One number for the reproduction report, beside its reference where one
 * exists. The experiments on every floor hand these to src/report, which
 * records and renders them (report/numbers.ts, report/reproduction.ts).
 */
export interface ReportNumber {
  /** What the number is, e.g. "Fig. 2(a) aligned share: security". */
  name: string;
  value: number | string;
  /** The published or released value it should be compared with. */
  reference?: number | string;
  /** Where the reference comes from, e.g. "paper Fig. 2(a)", "released value_reward". */
  referenceSource?: string;
  /** Largest |value − reference| counted as a match (numbers only). */
  tolerance?: number;
  note?: string;
}
