/**
 * Value profiles: the mean value vector of a group of records (all answers
 * of one LLM, all prompts of one query source, all answers of one scored
 * model). A mean near +1 on a value says the group's answers nearly always
 * uphold it; near −1, nearly always go against it; near 0, rarely touch it.
 */
import type { ColumnTable } from "arquero";
import { BASIC_VALUES } from "../values/taxonomy.js";

export type ValueProfile = {
  group: string;
  /** Records in the group. */
  n: number;
  /** Mean of the group's vectors, in the paper's value order. */
  mean: number[];
};

/** Mean vector per group, groups sorted by size (largest first) then name. */
export function meanProfiles(vectors: readonly (readonly number[])[], groups: readonly string[]): ValueProfile[] {
  if (vectors.length !== groups.length) throw new RangeError(`meanProfiles: ${vectors.length} vectors but ${groups.length} group labels`);
  const sums = new Map<string, { n: number; sum: number[] }>();
  for (let i = 0; i < vectors.length; i++) {
    const v = vectors[i];
    let s = sums.get(groups[i]);
    if (!s) {
      s = { n: 0, sum: new Array<number>(v.length).fill(0) };
      sums.set(groups[i], s);
    }
    if (v.length !== s.sum.length) throw new RangeError(`meanProfiles: vector ${i} has ${v.length} dimensions, expected ${s.sum.length}`);
    s.n++;
    for (let d = 0; d < v.length; d++) s.sum[d] += v[d];
  }
  return [...sums.entries()]
    .map(([group, s]) => ({ group, n: s.n, mean: s.sum.map((x) => x / s.n) }))
    .sort((a, b) => b.n - a.n || a.group.localeCompare(b.group));
}

/**
 * Mean value vector per distinct value of `groupColumn`, from a table's
 * vector column ("basic" for FULCRA records, "value_reward" for scored outputs).
 */
export function valueProfiles(table: ColumnTable, groupColumn: string, vectorColumn = "basic"): ValueProfile[] {
  for (const c of [groupColumn, vectorColumn]) {
    if (!table.columnNames().includes(c))
      throw new Error(`valueProfiles: the table has no column "${c}"; columns: ${table.columnNames().join(", ")}`);
  }
  return meanProfiles(table.array(vectorColumn) as unknown as number[][], (table.array(groupColumn) as unknown as unknown[]).map(String));
}

/** Profiles in long form (group, value, mean, n): one row per group and value, for grouped bars. */
export function profilesLong(profiles: readonly ValueProfile[]): { group: string; value: string; mean: number; n: number }[] {
  return profiles.flatMap((p) => {
    if (p.mean.length !== BASIC_VALUES.length)
      throw new RangeError(`profilesLong: profile "${p.group}" has ${p.mean.length} dimensions, expected ${BASIC_VALUES.length}`);
    return BASIC_VALUES.map((value, i) => ({ group: p.group, value, mean: p.mean[i], n: p.n }));
  });
}
