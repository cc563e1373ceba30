# lipsync-gateway image (the NestJS gateway + CLI). Inference runs on Triton (INFERENCE_BACKEND=triton)
# or in-process on ONNX Runtime CPU (mount the model and set MODEL_PATH).
#
#   docker build -t lipsync-gateway .
#   docker run -p 8080:8080 -e INFERENCE_BACKEND=triton -e TRITON_URL=triton:8001 lipsync-gateway

FROM node:24-bookworm-slim AS build
WORKDIR /app
# .npmrc keeps ignore-scripts=true: onnxruntime-node's CPU library ships in the package, and its install
# script would try to download GPU libraries
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY gateway ./gateway
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
# Debian's ffmpeg has libx264 and h264_nvenc built in; NVENC is used only when the GPU has an encoder
# (H100/H200 have none; the encoder probe falls back to libx264). espeak-ng speaks `text` jobs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg espeak-ng ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    PORT=8080 \
    DATA_DIR=/data
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# the hand-written KServe v2 protos are loaded at runtime (found by walking up from dist/)
COPY gateway/proto ./gateway/proto
# the web page at / (static files, no build step)
COPY gateway/public ./gateway/public
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
