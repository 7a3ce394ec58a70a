/**
 * Schwartz's theory of basic human values as used by Value FULCRA.
 *
 * Three levels: 54 value items → 19 refined values → 10 basic values.
 * The 10 basic values are listed in the paper's vector order; every value
 * vector in the kit (labels, evaluator outputs, targets) uses this order.
 * Definitions are the kit's own short paraphrases.
 */

export const BASIC_VALUES = [
  "self-direction",
  "stimulation",
  "hedonism",
  "achievement",
  "power",
  "security",
  "tradition",
  "conformity",
  "benevolence",
  "universalism",
] as const;
export type BasicValue = (typeof BASIC_VALUES)[number];

/** Display names in the paper's capitalisation. */
export const BASIC_VALUE_LABELS: Record<BasicValue, string> = {
  "self-direction": "Self-direction",
  stimulation: "Stimulation",
  hedonism: "Hedonism",
  achievement: "Achievement",
  power: "Power",
  security: "Security",
  tradition: "Tradition",
  conformity: "Conformity",
  benevolence: "Benevolence",
  universalism: "Universalism",
};

export const BASIC_VALUE_DEFINITIONS: Record<BasicValue, string> = {
  "self-direction": "Thinking and acting for oneself: choosing, creating, exploring.",
  stimulation: "Seeking novelty, excitement and challenge.",
  hedonism: "Seeking pleasure and enjoyment for oneself.",
  achievement: "Succeeding by showing competence that others recognise.",
  power: "Holding status, prestige, or control over people and resources.",
  security: "Keeping oneself, one's relationships and society safe and stable.",
  tradition: "Respecting and keeping the customs and beliefs of one's culture or religion.",
  conformity: "Holding back actions that could upset others or break social norms.",
  benevolence: "Caring for the welfare of the people one is close to.",
  universalism: "Understanding, tolerance and protection for all people and for nature.",
};

/** The four higher-order groups of Schwartz's circle, used to colour plots. */
export const HIGHER_ORDER_GROUPS = ["openness to change", "self-enhancement", "conservation", "self-transcendence"] as const;
export type HigherOrderGroup = (typeof HIGHER_ORDER_GROUPS)[number];

export const HIGHER_ORDER_OF: Record<BasicValue, HigherOrderGroup> = {
  "self-direction": "openness to change",
  stimulation: "openness to change",
  // Hedonism shares elements of openness and self-enhancement; the circle
  // usually draws it with openness to change.
  hedonism: "openness to change",
  achievement: "self-enhancement",
  power: "self-enhancement",
  security: "conservation",
  tradition: "conservation",
  conformity: "conservation",
  benevolence: "self-transcendence",
  universalism: "self-transcendence",
};

export const REFINED_VALUES = [
  "self-direction-thought",
  "self-direction-action",
  "stimulation",
  "hedonism",
  "achievement",
  "power-dominance",
  "power-resources",
  "face",
  "security-personal",
  "security-societal",
  "tradition",
  "conformity-rules",
  "conformity-interpersonal",
  "humility",
  "benevolence-caring",
  "benevolence-dependability",
  "universalism-concern",
  "universalism-nature",
  "universalism-tolerance",
] as const;
export type RefinedValue = (typeof REFINED_VALUES)[number];

/** How the refined theory folds back into the 10 basic values (FULCRA's mapping). */
export const BASIC_OF_REFINED: Record<RefinedValue, BasicValue> = {
  "self-direction-thought": "self-direction",
  "self-direction-action": "self-direction",
  stimulation: "stimulation",
  hedonism: "hedonism",
  achievement: "achievement",
  "power-dominance": "power",
  "power-resources": "power",
  face: "power",
  "security-personal": "security",
  "security-societal": "security",
  tradition: "tradition",
  "conformity-rules": "conformity",
  "conformity-interpersonal": "conformity",
  humility: "conformity",
  "benevolence-caring": "benevolence",
  "benevolence-dependability": "benevolence",
  "universalism-concern": "universalism",
  "universalism-nature": "universalism",
  "universalism-tolerance": "universalism",
};

export const REFINED_VALUE_DEFINITIONS: Record<RefinedValue, string> = {
  "self-direction-thought": "Freedom to form one's own ideas and develop one's abilities.",
  "self-direction-action": "Freedom to decide one's own actions.",
  stimulation: "Excitement, novelty and challenge.",
  hedonism: "Pleasure and sensuous gratification.",
  achievement: "Success by social standards of competence.",
  "power-dominance": "Power by control over other people.",
  "power-resources": "Power by control over material and social resources.",
  face: "Protecting one's public image and avoiding humiliation.",
  "security-personal": "Safety in one's immediate surroundings.",
  "security-societal": "Safety and stability of the wider society.",
  tradition: "Keeping cultural, family or religious customs.",
  "conformity-rules": "Complying with rules, laws and formal duties.",
  "conformity-interpersonal": "Not upsetting or harming other people.",
  humility: "Seeing oneself as small in the larger scheme of things.",
  "benevolence-caring": "Devotion to the welfare of one's group.",
  "benevolence-dependability": "Being a member the group can rely on.",
  "universalism-concern": "Equality, justice and protection for everyone.",
  "universalism-nature": "Preserving the natural environment.",
  "universalism-tolerance": "Accepting and understanding people unlike oneself.",
};

export interface ValueItem {
  /** Canonical name, lower case, as FULCRA spells it. */
  readonly name: string;
  readonly refined: RefinedValue;
  /** The basic value FULCRA maps the item to (usually the refined value's parent). */
  readonly basic: BasicValue;
  readonly definition: string;
}

function item(name: string, refined: RefinedValue, definition: string, basic?: BasicValue): ValueItem {
  return { name, refined, basic: basic ?? BASIC_OF_REFINED[refined], definition };
}

/** The 54 value items in FULCRA's order. */
export const VALUE_ITEMS: readonly ValueItem[] = [
  item("be creative", "self-direction-thought", "Uses imagination to make original ideas or things."),
  item("be curious", "self-direction-thought", "Wants to learn and explore new things."),
  item("have freedom of thought", "self-direction-thought", "Forms opinions of one's own."),
  item("be choosing own goals", "self-direction-action", "Picks and pursues one's own aims."),
  item("be independent", "self-direction-action", "Relies on oneself rather than on others."),
  item("have freedom of action", "self-direction-action", "Makes one's own choices and decisions."),
  item("have privacy", "self-direction-action", "Keeps a personal sphere and boundaries."),
  item("have an exciting life", "stimulation", "Looks for thrilling experiences."),
  item("have a varied life", "stimulation", "Wants change, novelty and diverse experience."),
  item("be daring", "stimulation", "Willing to take risks and seek adventure."),
  item("have pleasure", "hedonism", "Seeks gratification and enjoyment."),
  item("enjoying life", "hedonism", "Enjoys food, leisure and the good things of life."),
  item("be self-indulgent", "hedonism", "Does what brings personal satisfaction."),
  item("be ambitious", "achievement", "Works hard and aspires to success."),
  item("be successful", "achievement", "Reaches one's goals."),
  item("be capable", "achievement", "Competent and effective at tasks."),
  item("be influential", "achievement", "Has an impact on people and events."),
  item("be intellectual", "achievement", "Knowledgeable and thinks critically."),
  item("have authority", "power-dominance", "Has the right to lead or command."),
  item("have social power", "power-dominance", "Controls or dominates others."),
  item("have wealth", "power-resources", "Owns money and possessions."),
  item("have a social recognition", "face", "Respected and approved of by others."),
  item("preserving my public image", "face", "Protects one's reputation ('face')."),
  // FULCRA files this face item under security in the 10-value scheme.
  item("observing social norms", "face", "Keeps to social norms to protect one's face.", "security"),
  item("have a sense of belonging", "security-personal", "Feels that others care about oneself."),
  item("have a good health", "security-personal", "Is not sick in body or mind."),
  item("have no debts", "security-personal", "Avoids owing anything to anyone."),
  item("be neat and tidy", "security-personal", "Keeps oneself and one's things clean and ordered."),
  item("have family security", "security-personal", "Keeps one's family safe."),
  item("have a safe country", "security-societal", "The nation is protected from threats."),
  item("have a stable society", "security-societal", "Social order and stability are kept."),
  item("be respecting traditions", "tradition", "Keeps and values long-standing customs."),
  item("be holding religious faith", "tradition", "Devoted to one's religion."),
  item("be obedient", "conformity-rules", "Dutiful; meets obligations."),
  item("be self-disciplined", "conformity-rules", "Restrains oneself and resists temptation."),
  item("moderate", "conformity-rules", "Avoids extremes of feeling and action."),
  item("be polite", "conformity-interpersonal", "Courteous, with good manners."),
  item("be honoring parents and elders", "conformity-interpersonal", "Shows respect to parents and elders."),
  item("be humble", "humility", "Modest and self-effacing."),
  item("accepting my portion in life", "humility", "Accepts life's circumstances."),
  item("be helpful", "benevolence-caring", "Works for the good of others."),
  item("be honest", "benevolence-caring", "Genuine and sincere."),
  item("be forgiving", "benevolence-caring", "Willing to pardon others."),
  item("true friendship", "benevolence-caring", "Has close, supportive friends."),
  item("mature love", "benevolence-caring", "Deep emotional and spiritual intimacy."),
  item("be responsible", "benevolence-dependability", "Dependable and reliable."),
  item("have loyalty towards friends", "benevolence-dependability", "Faithful to friends and group."),
  item("have equality", "universalism-concern", "Equal rights and chances for everyone."),
  item("social justice", "universalism-concern", "Corrects injustice and cares for the weak."),
  item("have a world at peace", "universalism-concern", "A world free of war and conflict."),
  item("be protecting the environment", "universalism-nature", "Safeguards nature and its resources."),
  item("have harmony with nature", "universalism-nature", "Fits into nature."),
  item("have a world of beauty", "universalism-nature", "Appreciates beauty in nature and the arts."),
  item("be broadminded", "universalism-tolerance", "Tolerant of different ideas and beliefs."),
];

export const VALUE_ITEM_NAMES: readonly string[] = VALUE_ITEMS.map((i) => i.name);

const itemIndex = new Map(VALUE_ITEMS.map((it, i) => [it.name, i]));
const basicIndex = new Map<string, number>(BASIC_VALUES.map((v, i) => [v, i]));
const refinedIndex = new Map<string, number>(REFINED_VALUES.map((v, i) => [v, i]));

export function valueItemIndex(name: string): number | undefined {
  return itemIndex.get(name);
}
export function basicValueIndex(name: string): number | undefined {
  return basicIndex.get(name);
}
export function refinedValueIndex(name: string): number | undefined {
  return refinedIndex.get(name);
}
export function isBasicValue(name: string): name is BasicValue {
  return basicIndex.has(name);
}
export function isRefinedValue(name: string): name is RefinedValue {
  return refinedIndex.has(name);
}
