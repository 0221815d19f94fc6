# One image for every role: `docker run shouwang:local gateway` (or detector, dispatch, api, run).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shouwang ./shouwang
COPY cli ./cli
COPY gateway ./gateway
COPY detector ./detector
COPY dispatch ./dispatch
COPY api ./api
COPY simulator ./simulator
RUN pip install --no-cache-dir '.[postgres,influx]' \
    && useradd --system --uid 10001 --home-dir /data shouwang \
    && mkdir -p /data && chown shouwang /data
USER shouwang
WORKDIR /data
ENTRYPOINT ["shouwang"]
CMD ["run"]
