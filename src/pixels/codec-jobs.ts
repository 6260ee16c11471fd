/**
 * The messages between the gateway and its codec workers (codec-pool.ts, codec-worker.ts).
 * Pixel buffers travel as ArrayBuffers transferred, not copied, on the way back.
 */
import { CodecName } from './codec-catalog';
import { FrameFormat } from './frame-format';
import { RenderJob } from './render/render-job';

export type CodecJob =
  | { op: 'decode'; codec: CodecName; format: FrameFormat; bytes: Uint8Array }
  | { op: 'encode'; codec: CodecName; format: FrameFormat; bytes: Uint8Array }
  | { op: 'render'; render: RenderJob; format: FrameFormat; bytes: Uint8Array };

export interface CodecRequest {
  id: number;
  job: CodecJob;
}

/** `retire`: the worker's WebAssembly state can no longer be trusted (a trap such as an access
 *  out of bounds): the pool replaces it before giving it another job. */
export type CodecResponse =
  | { id: number; ok: true; bytes: Uint8Array }
  | { id: number; ok: false; corrupt: boolean; message: string; retire?: boolean };
