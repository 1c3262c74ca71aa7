/**
 * Form bodies (Agno's run endpoints take `multipart/form-data` or urlencoded forms): urlencoded via
 * @fastify/formbody, multipart via @fastify/multipart read here into a plain object before
 * validation, so a malformed multipart body is a 400 in the surface's shape rather than a parser
 * crash. Uploaded files are drained and described (`files: [{filename, mimetype, size}]`); media
 * inputs for models arrive with a later issue.
 * @module
 */
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';
import { AgentOsError } from '../../errors/index.js';

/** Options of {@link registerFormBodies}. */
export interface FormBodyOptions {
  bodyLimit: number;
  uploadLimit: number;
}

/** Registers both form parsers on the root instance. */
export async function registerFormBodies(app: FastifyInstance, options: FormBodyOptions): Promise<void> {
  await app.register(formbody, { bodyLimit: options.bodyLimit });
  await app.register(multipart, {
    limits: { fileSize: options.uploadLimit, fields: 50, fieldSize: options.bodyLimit, files: 20 },
    // A file over the limit must fail the request, not arrive silently cut.
    throwFileSizeLimit: true,
  });
  app.addHook('preValidation', async (request) => {
    if (!request.isMultipart()) return;
    const config = request.routeOptions.config;
    // Only routes that take forms read multipart at all; elsewhere the body is refused unread.
    if (!config?.uploads && !config?.forms) {
      throw new AgentOsError('AOS_UNSUPPORTED_MEDIA_TYPE', 'This route does not accept multipart bodies');
    }
    // @fastify/multipart applies no total limit, and a chunked body declares no length: count here.
    const limit = config.uploads ? options.uploadLimit : options.bodyLimit;
    let total = 0;
    const count = (bytes: number) => {
      total += bytes;
      if (total > limit) throw new AgentOsError('AOS_PAYLOAD_TOO_LARGE', `Request body is larger than ${limit} bytes`);
    };
    const body: Record<string, unknown> = {};
    const files: { field: string; filename: string; mimetype: string; size: number; data?: Buffer }[] = [];
    try {
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          let size = 0;
          const kept: Buffer[] = [];
          for await (const chunk of part.file) {
            size += (chunk as Buffer).length;
            count((chunk as Buffer).length);
            if (config.keepFiles) kept.push(chunk as Buffer);
          }
          files.push({
            field: part.fieldname,
            filename: part.filename,
            mimetype: part.mimetype,
            size,
            // Routes that ingest files (knowledge) get the bytes; the others only a description.
            ...(config.keepFiles ? { data: Buffer.concat(kept) } : {}),
          });
        } else {
          count(Buffer.byteLength(String(part.value)));
          body[part.fieldname] = part.value;
        }
      }
    } catch (error) {
      if (error instanceof AgentOsError) throw error;
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 413) throw new AgentOsError('AOS_PAYLOAD_TOO_LARGE', 'An uploaded file is larger than the limit');
      throw new AgentOsError('AOS_BAD_REQUEST', `Malformed multipart body: ${(error as Error).message}`);
    }
    if (files.length > 0) body.files = files;
    request.body = body;
  });
}
