/**
 * The Python side of the notebook runner: a short nbclient script, run with
 * Debian's python3. It executes the cells in order, stops at the first error,
 * writes the executed notebook (also when it failed, for inspection) and
 * reports on stdout as JSON lines:
 *   {"event": "start", "cells": N, "code_cells": M}
 *   {"event": "kernel", "seconds": S}
 *   {"event": "cell", "index": I, "seconds": S}
 *   {"event": "result", ...}        (always last)
 *
 * tslab reports both TypeScript type errors and thrown exceptions as an
 * execute_reply with status "error" and an EMPTY ename/evalue; the message
 * itself is written to the cell's stderr stream. So the error text is taken
 * from the failing cell's stderr and error outputs.
 */
export const DRIVER_PY = String.raw`
import asyncio, json, sys, time, traceback
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

args = json.loads(sys.argv[1])

def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()

def cell_error_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            tb = out.get("traceback") or []
            parts.append("\n".join(tb) if tb else "%s: %s" % (out.get("ename", ""), out.get("evalue", "")))
    return "".join(parts).strip()

def write_outputs(nb):
    nbformat.write(nb, args["output"])
    if args.get("html"):
        try:
            from nbconvert import HTMLExporter
            body, _ = HTMLExporter().from_notebook_node(nb)
            with open(args["html"], "w", encoding="utf-8") as f:
                f.write(body)
        except Exception as e:  # HTML is a convenience; the run result does not depend on it
            sys.stderr.write("html export failed: %s\n" % e)

async def main():
    nb = nbformat.read(args["input"], as_version=4)
    nb.metadata["kernelspec"] = {"name": args["kernel"], "display_name": "TypeScript (tslab)", "language": "typescript"}
    client = NotebookClient(
        nb,
        timeout=args["timeout"],
        startup_timeout=args["startupTimeout"],
        kernel_name=args["kernel"],
        resources={"metadata": {"path": args["cwd"]}},
        allow_errors=False,
        record_timing=True,
    )
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    emit({"event": "start", "cells": len(nb.cells), "code_cells": code_cells})
    result = {"event": "result", "ok": True, "kernelSeconds": None, "seconds": None, "cells": [], "error": None}
    t0 = time.time()
    try:
        async with client.async_setup_kernel():
            msg_id = client.kc.kernel_info()
            info = await client.async_wait_for_reply(msg_id)
            if info is not None and "language_info" in info["content"]:
                nb.metadata["language_info"] = info["content"]["language_info"]
            result["kernelSeconds"] = time.time() - t0
            emit({"event": "kernel", "seconds": result["kernelSeconds"]})
            for index, cell in enumerate(nb.cells):
                start = time.time()
                try:
                    await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
                    kind = {"CellTimeoutError": "timeout", "DeadKernelError": "kernel-died"}.get(type(e).__name__, "error")
                    text = cell_error_text(cell)
                    if kind != "error" or not text:
                        text = (text + "\n" + str(e)).strip()
                    result["ok"] = False
                    result["error"] = {"kind": kind, "cellIndex": index, "source": cell.source, "text": text}
                    break
                if cell.cell_type == "code":
                    seconds = time.time() - start
                    result["cells"].append({"index": index, "seconds": seconds})
                    emit({"event": "cell", "index": index, "seconds": seconds})
    except Exception as e:
        result["ok"] = False
        result["error"] = {"kind": "kernel", "cellIndex": None, "source": None, "text": "".join(traceback.format_exception_only(type(e), e)).strip()}
    result["seconds"] = time.time() - t0
    try:
        write_outputs(nb)
    except Exception as e:
        sys.stderr.write("could not write the executed notebook: %s\n" % e)
    emit(result)

asyncio.run(main())
`;
