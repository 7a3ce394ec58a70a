/** The value taxonomy as rows, for showing it in notebooks (`show.table(basicValueRows())`). */
import {
  BASIC_OF_REFINED,
  BASIC_VALUE_DEFINITIONS,
  BASIC_VALUE_LABELS,
  BASIC_VALUES,
  HIGHER_ORDER_OF,
  REFINED_VALUE_DEFINITIONS,
  REFINED_VALUES,
  VALUE_ITEMS,
} from "../values/taxonomy.js";

/** The 10 basic values in the paper's vector order: index, name, higher-order group, definition. */
export function basicValueRows(): { index: number; value: string; group: string; definition: string }[] {
  return BASIC_VALUES.map((v, i) => ({
    index: i,
    value: BASIC_VALUE_LABELS[v],
    group: HIGHER_ORDER_OF[v],
    definition: BASIC_VALUE_DEFINITIONS[v],
  }));
}

/** The 19 refined values: name, the basic value it folds into, definition. */
export function refinedValueRows(): { refined: string; basic: string; definition: string }[] {
  return REFINED_VALUES.map((r) => ({
    refined: r,
    basic: BASIC_VALUE_LABELS[BASIC_OF_REFINED[r]],
    definition: REFINED_VALUE_DEFINITIONS[r],
  }));
}

/** The 54 value items: name, refined parent, basic parent, definition. */
export function valueItemRows(): { item: string; refined: string; basic: string; definition: string }[] {
  return VALUE_ITEMS.map((it) => ({ item: it.name, refined: it.refined, basic: BASIC_VALUE_LABELS[it.basic], definition: it.definition }));
}
