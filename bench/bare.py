"""The baseline of the intake benchmark: a bare Flask endpoint that parses the same JSON
POST and answers 202, with no validation, storage or queue."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.post("/api/v1/articles/<slug>/comments")
def accept(slug):
    data = request.get_json()
    return jsonify(id="0" * 32, status="pending", article=slug, size=len(data)), 202


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")
