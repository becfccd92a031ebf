/// The API's OpenAPI 3.1 description, served at `GET /api/openapi.json`. It is kept true by a
/// test that compares its paths and methods with the router's routes.
enum OpenAPIDocument {
    static let bytes = Array(json.utf8)

    /// Cancel answers POST and, for the original's clients, GET: one operation, written once.
    private static func cancel(_ operationID: String) -> String {
        #"""
{
        "operationId": "\#(operationID)",
        "summary": "Cancel a run (scope runs:write); GET is kept for the original's clients",
        "responses": {
          "204": {"description": "A pending or running run is cancelling (a cancel action was published); a queued one is cancelled; already cancelling or cancelled: nothing to do"},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
          "409": {"$ref": "#/components/responses/Conflict"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
"""#
    }

    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Simple Scheduler API",
    "version": "1.0.0",
    "description": "Manage jobs and runs of Simple Scheduler. Every error is {\"error\": \"...\"} with the status code that fits. Authenticate with `Authorization: Bearer <token>`: a JWT from the configured OIDC issuer, or an API key (ssk_...)."
  },
  "servers": [{"url": "/"}],
  "security": [{"bearer": []}],
  "paths": {
    "/api/status": {
      "get": {
        "summary": "Liveness of the API",
        "security": [],
        "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"type": "object", "properties": {"status": {"const": "OK"}}, "required": ["status"]}}}}}
      }
    },
    "/metrics": {
      "get": {
        "summary": "Prometheus metrics (text format 0.0.4)",
        "security": [],
        "responses": {"200": {"description": "Metrics", "content": {"text/plain": {}}}}
      }
    },
    "/health": {
      "get": {
        "summary": "Health: the database answers",
        "security": [],
        "responses": {
          "200": {"description": "Healthy", "content": {"application/json": {}}},
          "503": {"description": "The database does not answer", "content": {"application/json": {}}}
        }
      }
    },
    "/api/openapi.json": {
      "get": {
        "summary": "This document",
        "security": [],
        "responses": {"200": {"description": "The OpenAPI 3.1 document", "content": {"application/json": {}}}}
      }
    },
    "/api/jobs": {
      "get": {
        "operationId": "listJobs",
        "summary": "List jobs by name (scope jobs:read)",
        "parameters": [{"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/after"}],
        "responses": {
          "200": {"description": "A page of jobs; the next one is in the Link header", "headers": {"Link": {"$ref": "#/components/headers/Link"}}, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      },
      "post": {
        "operationId": "createJob",
        "summary": "Create a job (scope jobs:write)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobInput"}}}},
        "responses": {
          "201": {"description": "Created", "links": {"getJob": {"operationId": "getJob", "parameters": {"name": "$response.body#/name"}}, "updateJob": {"operationId": "updateJob", "parameters": {"name": "$response.body#/name"}}, "getSchedule": {"operationId": "getSchedule", "parameters": {"name": "$response.body#/name"}}, "triggerRun": {"operationId": "triggerRun", "parameters": {"name": "$response.body#/name"}}, "deleteJob": {"operationId": "deleteJob", "parameters": {"name": "$response.body#/name"}}}, "content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"},
          "409": {"$ref": "#/components/responses/Conflict"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/jobs/{name}": {
      "parameters": [{"$ref": "#/components/parameters/jobName"}],
      "get": {
        "operationId": "getJob",
        "summary": "Read a job (scope jobs:read)",
        "responses": {
          "200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      },
      "patch": {
        "operationId": "updateJob",
        "summary": "Change some fields of a job; name cannot change (scope jobs:write)",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobPatch"}}}},
        "responses": {
          "204": {"description": "Changed"},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      },
      "delete": {
        "operationId": "deleteJob",
        "summary": "Delete a job; its active runs are cancelled, its history kept (scope jobs:write)",
        "responses": {
          "204": {"description": "Deleted"},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/jobs/{name}/runs": {
      "parameters": [{"$ref": "#/components/parameters/jobName"}],
      "post": {
        "operationId": "triggerRun",
        "summary": "Trigger a manual run now (scope runs:write)",
        "responses": {
          "201": {"description": "The run, queued; the scheduler dispatches it within a second", "links": {"getRun": {"operationId": "getRun", "parameters": {"id": "$response.body#/id"}}, "cancelRun": {"operationId": "cancelRun", "parameters": {"id": "$response.body#/id"}}}, "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
          "409": {"$ref": "#/components/responses/Conflict"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/jobs/{name}/schedule": {
      "parameters": [{"$ref": "#/components/parameters/jobName"}],
      "get": {
        "operationId": "getSchedule",
        "summary": "The next fire instants of a job (scope jobs:read)",
        "parameters": [{"name": "count", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10}}],
        "responses": {
          "200": {"description": "Instants, soonest first", "content": {"application/json": {"schema": {"type": "object", "properties": {"next": {"type": "array", "items": {"type": "string", "format": "date-time"}}}, "required": ["next"]}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"},
          "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/runs": {
      "get": {
        "summary": "List runs, newest first (scope runs:read). The original's PascalCase filter names (JobName, Status, ...) are accepted too.",
        "parameters": [
          {"name": "jobName", "in": "query", "schema": {"type": "string"}},
          {"name": "status", "in": "query", "description": "One status or several, comma-separated", "schema": {"type": "string"}},
          {"name": "trigger", "in": "query", "schema": {"$ref": "#/components/schemas/RunTrigger"}},
          {"name": "createdBefore", "in": "query", "schema": {"type": "string", "format": "date-time"}},
          {"name": "startedBefore", "in": "query", "schema": {"type": "string", "format": "date-time"}},
          {"name": "heartbeatBefore", "in": "query", "schema": {"type": "string", "format": "date-time"}},
          {"$ref": "#/components/parameters/limit"}, {"$ref": "#/components/parameters/after"}
        ],
        "responses": {
          "200": {"description": "A page of runs; the next one is in the Link header", "headers": {"Link": {"$ref": "#/components/headers/Link"}}, "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Run"}}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/runs/{id}": {
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "get": {
        "operationId": "getRun",
        "summary": "Read a run (scope runs:read)",
        "responses": {
          "200": {"description": "The run", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Run"}}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "403": {"$ref": "#/components/responses/Forbidden"}, "404": {"$ref": "#/components/responses/NotFound"}, "503": {"$ref": "#/components/responses/Unavailable"}
        }
      }
    },
    "/api/runs/{id}/cancel": {
      "parameters": [{"$ref": "#/components/parameters/runId"}],
      "post": \#(cancel("cancelRun")),
      "get": \#(cancel("cancelRunWithGet"))
    }
  },
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An OIDC access token (JWT, RS256 or ES256) or an API key starting ssk_"}},
    "parameters": {
      "limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}},
      "after": {"name": "after", "in": "query", "description": "Opaque cursor from the previous page's Link header", "schema": {"type": "string"}},
      "jobName": {"name": "name", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,200}$"}},
      "runId": {"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9a-f]{24}$"}}
    },
    "headers": {"Link": {"description": "<url>; rel=\"next\" when another page exists", "schema": {"type": "string"}}},
    "responses": {
      "BadRequest": {"description": "Invalid input; the message says what is wrong", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "Missing or invalid token (WWW-Authenticate: Bearer)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Forbidden": {"description": "The token lacks scopes", "content": {"application/json": {"schema": {"type": "object", "properties": {"error": {"type": "string"}, "missing_scopes": {"type": "array", "items": {"type": "string"}}}, "required": ["error", "missing_scopes"]}}}},
      "NotFound": {"description": "No such job or run", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Conflict": {"description": "The job exists already, or is disabled (trigger)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unavailable": {"description": "The database is unreachable; retry", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]},
      "RunStatus": {"enum": ["queued", "pending", "running", "cancelling", "cancelled", "failed", "completed", "skipped", "missed"]},
      "RunTrigger": {"enum": ["schedule", "manual", "retry"]},
      "Time": {"type": ["string", "null"], "format": "date-time"},
      "JobFields": {
        "type": "object",
        "properties": {
          "enabled": {"type": "boolean"},
          "nextRunAt": {"$ref": "#/components/schemas/Time"},
          "interval": {"type": "integer", "minimum": 0, "maximum": 9007199254740991, "description": "ms; > 0 recurring, 0 without cron one-shot"},
          "cron": {"type": ["string", "null"]},
          "timezone": {"type": "string", "default": "UTC"},
          "runExecutionTimeout": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
          "runStartTimeout": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
          "heartbeatTimeout": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
          "allowConcurrentRuns": {"type": "boolean"},
          "maxQueueCount": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
          "catchUpWindow": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
          "maxRetries": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
          "retryDelay": {"type": "integer", "minimum": 0, "maximum": 9007199254740991},
          "managerId": {"type": ["string", "null"], "readOnly": true},
          "heartbeat": {"$ref": "#/components/schemas/Time", "readOnly": true}
        }
      },
      "Job": {"allOf": [{"$ref": "#/components/schemas/JobFields"}, {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name", "enabled", "nextRunAt", "interval"]}]},
      "JobInput": {
        "allOf": [{"$ref": "#/components/schemas/JobFields"}, {"type": "object", "properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,200}$"}}, "required": ["name", "enabled"]}],
        "anyOf": [{"properties": {"nextRunAt": {"type": "string"}}, "required": ["nextRunAt"]}, {"properties": {"cron": {"type": "string"}}, "required": ["cron"]}],
        "unevaluatedProperties": false
      },
      "JobPatch": {"allOf": [{"$ref": "#/components/schemas/JobFields"}], "unevaluatedProperties": false},
      "Run": {
        "type": "object",
        "properties": {
          "id": {"type": "string"}, "jobName": {"type": "string"}, "status": {"$ref": "#/components/schemas/RunStatus"},
          "createdTime": {"type": "string", "format": "date-time"}, "startTime": {"$ref": "#/components/schemas/Time"},
          "endTime": {"$ref": "#/components/schemas/Time"}, "heartbeat": {"$ref": "#/components/schemas/Time"},
          "trigger": {"$ref": "#/components/schemas/RunTrigger"}, "attempt": {"type": "integer"},
          "missedSlots": {"type": "integer"}, "retryOf": {"type": ["string", "null"]}
        },
        "required": ["id", "jobName", "status", "createdTime", "trigger", "attempt", "missedSlots"]
      }
    }
  }
}
"""#
}
