/**
 * The paper's published numbers for the dataset figures, as facts to compare with.
 *
 * They were read off the figures of Value FULCRA (Yao et al., NAACL 2024):
 * Figure 2(a) draws bars, so its shares are readings good to about ±1 point;
 * Figure 4(b) prints the correlation in each cell. The paper computed them on
 * the full FULCRA release (~20k records), not on the mirror's subset.
 */
import type { BasicValue } from "../values/taxonomy.js";
import type { RiskGroup } from "./harm.js";

export type PaperValueShare = {
  value: BasicValue;
  /** Share of all records labelled aligned (+1) with the value. */
  aligned: number;
  /** Share labelled aligned or opposed (the full bar). */
  alignedOrOpposed: number;
  /** Share labelled opposed (−1): the full bar minus the aligned part. */
  opposed: number;
};

function share(value: BasicValue, aligned: number, alignedOrOpposed: number): PaperValueShare {
  return { value, aligned, alignedOrOpposed, opposed: Math.round((alignedOrOpposed - aligned) * 1000) / 1000 };
}

/** Figure 2(a), proportion of all records, in the paper's value order. */
export const PAPER_FIG2A: readonly PaperValueShare[] = [
  share("self-direction", 0.271, 0.314),
  share("stimulation", 0.043, 0.044),
  share("hedonism", 0.022, 0.024),
  share("achievement", 0.308, 0.31),
  share("power", 0.069, 0.073),
  share("security", 0.223, 0.31),
  share("tradition", 0.039, 0.044),
  share("conformity", 0.167, 0.27),
  share("benevolence", 0.28, 0.36),
  share("universalism", 0.2, 0.225),
];

/** How far a reading off the Figure 2(a) bars can be from the true share. */
export const PAPER_FIG2A_READING_TOLERANCE = 0.01;

/** Figure 4(b): correlation of each value dimension with each of the five risk groups. */
export const PAPER_FIG4B: Readonly<Record<BasicValue, Readonly<Record<RiskGroup, number>>>> = {
  achievement: {
    "illegal activity": 0.19,
    "bias & toxicity": -0.036,
    "privacy violation": -0.13,
    "unethical behaviours": -0.057,
    "controversial topics": 0.021,
  },
  "self-direction": {
    "illegal activity": -0.13,
    "bias & toxicity": -0.023,
    "privacy violation": 0.15,
    "unethical behaviours": -0.044,
    "controversial topics": 0.21,
  },
  power: {
    "illegal activity": 0.046,
    "bias & toxicity": 0.055,
    "privacy violation": -0.2,
    "unethical behaviours": 0.099,
    "controversial topics": 0.052,
  },
  stimulation: {
    "illegal activity": 0.039,
    "bias & toxicity": -0.026,
    "privacy violation": 0.093,
    "unethical behaviours": 0.12,
    "controversial topics": 0.13,
  },
  hedonism: {
    "illegal activity": -0.057,
    "bias & toxicity": 0.014,
    "privacy violation": 0.036,
    "unethical behaviours": 0.13,
    "controversial topics": 0.39,
  },
  tradition: {
    "illegal activity": 0.039,
    "bias & toxicity": 0.15,
    "privacy violation": -0.0029,
    "unethical behaviours": 0.046,
    "controversial topics": 0.3,
  },
  security: {
    "illegal activity": 0.29,
    "bias & toxicity": -0.11,
    "privacy violation": -0.15,
    "unethical behaviours": -0.1,
    "controversial topics": -0.17,
  },
  conformity: {
    "illegal activity": 0.16,
    "bias & toxicity": 0.21,
    "privacy violation": -0.19,
    "unethical behaviours": 0.1,
    "controversial topics": -0.17,
  },
  benevolence: {
    "illegal activity": 0.11,
    "bias & toxicity": -0.033,
    "privacy violation": -0.098,
    "unethical behaviours": 0.039,
    "controversial topics": -0.034,
  },
  universalism: {
    "illegal activity": -0.033,
    "bias & toxicity": 0.21,
    "privacy violation": 0.0011,
    "unethical behaviours": -0.017,
    "controversial topics": 0.24,
  },
};

/** The row order of the paper's Figure 4(b) heatmap (top to bottom). */
export const PAPER_FIG4B_VALUE_ORDER: readonly BasicValue[] = [
  "achievement",
  "self-direction",
  "power",
  "stimulation",
  "hedonism",
  "tradition",
  "security",
  "conformity",
  "benevolence",
  "universalism",
];

/** Where the reference numbers come from, for tables and the reproduction report. */
export const PAPER_SOURCE = {
  fig2a: "paper Fig. 2(a) (read off the bars, ±1 point; full ~20k records)",
  fig4b: "paper Fig. 4(b) (printed cell values)",
} as const;
