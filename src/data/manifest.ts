/**
 * The official FULCRA files, pinned by commit and verified by git blob id
 * (and sha256 and size where known). Facts from the source repository's history.
 */

export type RecordKind = "fulcra" | "questions" | "preference_pairs" | "scored_outputs";

export interface ManifestEntry {
  /** Short name used by the CLI and the API. */
  name: string;
  kind: RecordKind;
  /** Path in the source repository. */
  path: string;
  commit: string;
  gitBlobSha1: string;
  sha256?: string;
  bytes?: number;
  records?: number;
  /** Where the file sits under a mirror folder (and under data/raw/). */
  localPath: string;
  description: string;
}

export const SOURCE_REPOSITORY = "https://github.com/microsoft/ValueCompass";
export const LICENSE = "MIT (Copyright (c) Microsoft Corporation), as stated in the repository's LICENSE";

export function rawUrl(entry: ManifestEntry): string {
  return `https://raw.githubusercontent.com/microsoft/ValueCompass/${entry.commit}/${entry.path}`;
}

export const MANIFEST: readonly ManifestEntry[] = [
  {
    name: "data_hybrid",
    kind: "fulcra",
    path: "Value_FULCRA/data/data_hybrid.jsonl",
    commit: "b330e29c185eb5c24bb053d4c897a4e21d2af73b",
    gitBlobSha1: "6001905bdf549c208f755f21b166280465c261e4",
    localPath: "data/data_hybrid.jsonl",
    description: "All FULCRA (dialogue, value labels) pairs, about 20k",
  },
  {
    name: "evaluator_data",
    kind: "fulcra",
    path: "Value_FULCRA/data/evaluator_data.jsonl",
    commit: "b330e29c185eb5c24bb053d4c897a4e21d2af73b",
    gitBlobSha1: "5bf6d8febf30c21377ba9c08ae6ae83df8b5183a",
    localPath: "data/evaluator_data.jsonl",
    description: "BeaverTails prompts with Alpaca-7B responses; the subset the paper's evaluator is trained on",
  },
  {
    name: "generated_data",
    kind: "fulcra",
    path: "Value_FULCRA/data/generated_data.jsonl",
    commit: "b330e29c185eb5c24bb053d4c897a4e21d2af73b",
    gitBlobSha1: "ac056e97c624412ff9aeb9e910cff895d136763d",
    localPath: "data/generated_data.jsonl",
    description: "GPT-4-written prompts that fill sparse value dimensions",
  },
  {
    name: "trustworthy_data",
    kind: "fulcra",
    path: "Value_FULCRA/data/trustworthy_data.jsonl",
    commit: "b330e29c185eb5c24bb053d4c897a4e21d2af73b",
    gitBlobSha1: "fc30d42d6149ad55bd5f783ab77dd5b78b0b5cef",
    sha256: "5c7e5803e4363830c952941d2a1bdff45f2604be19322b951bb21c8d8970df0d",
    bytes: 2136857,
    records: 1718,
    localPath: "data/trustworthy_data.jsonl",
    description: "DecodingTrust-style prompts, responses of 5 LLMs, value labels",
  },
  {
    name: "saferlhf_train_questions",
    kind: "questions",
    path: "Value_FULCRA/data/saferlhf/train_questions.jsonl",
    commit: "b330e29c185eb5c24bb053d4c897a4e21d2af73b",
    gitBlobSha1: "830dd76245c93124bde1a63a887a58797812772d",
    sha256: "231e86bc120c82cee6a96cbc1c06d47c51698e1663b21cc6a2e7db1e03c26ca5",
    bytes: 2522051,
    records: 14625,
    localPath: "data/saferlhf/train_questions.jsonl",
    description: "BeaverTails/SafeRLHF training prompts with their 14 harm categories (BaseAlign training prompts)",
  },
  {
    name: "saferlhf_test_questions",
    kind: "questions",
    path: "Value_FULCRA/data/saferlhf/test_questions.jsonl",
    commit: "b330e29c185eb5c24bb053d4c897a4e21d2af73b",
    gitBlobSha1: "ae412953a5762f2f33b948a1b98595a1bb3407a4",
    sha256: "e76febe2f914d888cb3647abbb4293c1643d2c28d7491098fdda2aa3fe5e65ea",
    bytes: 264013,
    records: 1523,
    localPath: "data/saferlhf/test_questions.jsonl",
    description: "BeaverTails/SafeRLHF test prompts with harm categories (harmlessness evaluation)",
  },
  {
    name: "helpful_test",
    kind: "preference_pairs",
    path: "Value_FULCRA/data/helpful/test.jsonl",
    commit: "b330e29c185eb5c24bb053d4c897a4e21d2af73b",
    gitBlobSha1: "2ecef803eba8fa3241245df00437e76334336119",
    sha256: "41c3a32fe45a7075f7e32b11bd29383f9fe650287354a95568f61295a8e694da",
    bytes: 3730987,
    records: 2354,
    localPath: "data/helpful/test.jsonl",
    description: "HH-RLHF helpful-base test pairs (chosen/rejected); helpfulness evaluation prompts",
  },
  {
    name: "harmless_test_gpt-4",
    kind: "scored_outputs",
    path: "Value_FULCRA/src/value_alignment/harmless_test_openai_gpt-4.jsonl",
    commit: "1c1d486fdb6066a7dd95047b4b34be592697d7c2",
    gitBlobSha1: "7035b946adc6595008624e947a667a09aed51a03",
    sha256: "e6b8dfdc3cea2c859f5176c672ba353de36f111169a45b74c7604fe555215de8",
    bytes: 1303203,
    records: 1523,
    localPath: "model_outputs/harmless_test_openai_gpt-4.jsonl",
    description: "GPT-4 answers to the test prompts, scored by the paper's reward model and value evaluator",
  },
  {
    name: "harmless_test_gpt-35-turbo",
    kind: "scored_outputs",
    path: "Value_FULCRA/src/value_alignment/harmless_test_openai_gpt-35-turbo.jsonl",
    commit: "1c1d486fdb6066a7dd95047b4b34be592697d7c2",
    gitBlobSha1: "1397810e272ab2e0fbed4789b274e4ebb5ca8781",
    sha256: "d8bfd586a6055c3178ae46e5b47635adc144d83494a8fc5d6ba3c01a68cb8bfb",
    bytes: 1455507,
    records: 1523,
    localPath: "model_outputs/harmless_test_openai_gpt-35-turbo.jsonl",
    description: "GPT-3.5-turbo answers, scored the same way",
  },
  {
    name: "harmless_test_mistral-large",
    kind: "scored_outputs",
    path: "Value_FULCRA/src/value_alignment/harmless_test_mistral_mistral-large-latest.jsonl",
    commit: "1c1d486fdb6066a7dd95047b4b34be592697d7c2",
    gitBlobSha1: "db78825c1657d1dd0287b82e9c14478ed90f288b",
    localPath: "model_outputs/harmless_test_mistral_mistral-large-latest.jsonl",
    description: "Mistral-large answers, scored the same way",
  },
];

export function manifestEntry(name: string): ManifestEntry {
  const hit = MANIFEST.find((e) => e.name === name);
  if (!hit) throw new Error(`unknown data file "${name}"; known: ${MANIFEST.map((e) => e.name).join(", ")}`);
  return hit;
}
