// The header is the module; this file gives SwiftPM a source to compile.
