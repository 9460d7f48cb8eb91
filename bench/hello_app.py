"""The baseline: a bare FastAPI app, served by uvicorn exactly like the vidassets API."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
def hello() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/hello", status_code=202)
def accept(body: dict) -> dict[str, str]:  # type: ignore[type-arg]
    return {"status": "accepted"}
