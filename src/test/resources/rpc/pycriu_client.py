"""Drives `jcriu swrk` through pycriu (Debian's criu package), exactly as a pycriu user would.

Usage: pycriu_client.py JCRIU SCENARIO ARGS...
  info                    VERSION, CHECK, FEATURE_CHECK, WAIT_PID of a non-child
  dump PID DIR            PRE_DUMP into DIR/pre, then DUMP into DIR/full with parent ../pre
  restore DIR             RESTORE from DIR/full
  notify PID DIR FAIL_ON  DUMP with notify_scripts; answers every notification, failing FAIL_ON
  refused PID DIR         DUMP with an option jcriu refuses
Prints one "key value" line per result; any exception ends the script with status 1.
"""
import errno
import os
import socket
import sys

import pycriu
import pycriu.rpc_pb2 as rpc

jcriu = sys.argv[1]
scenario = sys.argv[2]
args = sys.argv[3:]


def client():
    c = pycriu.criu()
    c.use_binary(jcriu)
    return c


def images(path):
    os.makedirs(path, exist_ok=True)
    return os.open(path, os.O_DIRECTORY)


if scenario == "info":
    c = client()
    req = rpc.criu_req()
    req.type = rpc.VERSION
    r = c._send_req_and_recv_resp(req)
    print("version", r.success, "%d.%d" % (r.version.major_number, r.version.minor_number), r.version.name)
    c.check()
    print("check ok")
    req = rpc.criu_req()
    req.type = rpc.FEATURE_CHECK
    req.features.mem_track = True
    req.features.lazy_pages = True
    r = c._send_req_and_recv_resp(req)
    print("features", r.success, r.features.mem_track, r.features.lazy_pages, r.features.pidfd_store)
    try:
        c.wait_pid(1)
        print("wait_pid unexpectedly succeeded")
    except pycriu.CRIUExceptionExternal as e:
        print("wait_pid errno", e.errno == errno.ECHILD)
elif scenario == "dump":
    pid, d = int(args[0]), args[1]
    c = client()
    c.opts.pid = pid
    c.opts.log_level = 4
    c.opts.images_dir_fd = images(d + "/pre")
    c.opts.log_file = "pre-dump.log"
    c.pre_dump()
    print("pre-dump ok")
    c.opts.images_dir_fd = images(d + "/full")
    c.opts.parent_img = "../pre"
    c.opts.track_mem = True
    c.opts.log_file = "dump.log"
    r = c.dump()
    print("dump ok", r.restored)
elif scenario == "restore":
    d = args[0]
    c = client()
    c.opts.images_dir_fd = images(d + "/full")
    c.opts.log_level = 4
    c.opts.log_file = "restore.log"
    r = c.restore()
    print("restored", r.pid)
elif scenario == "notify":
    pid, d, fail_on = int(args[0]), args[1], args[2]
    c = client()
    req = rpc.criu_req()
    req.type = rpc.DUMP
    req.opts.pid = pid
    req.opts.images_dir_fd = images(d)
    req.opts.log_level = 4
    req.opts.log_file = "dump.log"
    req.opts.notify_scripts = True
    sk = c._comm.connect(False)
    sk.send(req.SerializeToString())
    while True:
        resp = rpc.criu_resp()
        resp.ParseFromString(sk.recv(len(sk.recv(1, socket.MSG_TRUNC | socket.MSG_PEEK))))
        if resp.type != rpc.NOTIFY:
            break
        print("notify", resp.notify.script, resp.notify.pid if resp.notify.HasField("pid") else "-")
        answer = rpc.criu_req()
        answer.type = rpc.NOTIFY
        answer.notify_success = resp.notify.script != fail_on
        sk.send(answer.SerializeToString())
    c._comm.disconnect()
    print("dump", resp.success, resp.cr_errmsg.replace("\n", " "))
elif scenario == "refused":
    pid, d = int(args[0]), args[1]
    c = client()
    req = rpc.criu_req()
    req.type = rpc.DUMP
    req.opts.pid = pid
    req.opts.images_dir_fd = images(d)
    req.opts.auto_dedup = True
    req.opts.tcp_established = True
    r = c._send_req_and_recv_resp(req)
    print("refused", not r.success, r.cr_errno == 56, r.cr_errmsg.replace("\n", " "))
else:
    sys.exit("unknown scenario " + scenario)
