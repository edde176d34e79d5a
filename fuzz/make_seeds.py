#!/usr/bin/env python3
# Writes the seed corpus of the fuzz targets (fuzz/corpus/<target>/): messages as protocol.cpp
# encodes them (QDataStream, version Qt_6_0, big-endian) and traces as TraceWriter writes them.
#   python3 fuzz/make_seeds.py
import struct, json, os
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
def qs(s):
    if s is None: return struct.pack('>I',0xffffffff)
    b=s.encode('utf-16-be'); return struct.pack('>I',len(b))+b
# Protocol version 2: after the error, the kind (0 task, 1 continuation, 2 combinator), the
# error type and the input ids.
def task(id,title,state,prio,q,s,f,worker,err=None,kind=0,errtype=None,inputs=()):
    return (struct.pack('>Q',id)+qs(title)+struct.pack('>Bi',state,prio)+struct.pack('>qqqi',q,s,f,worker)+qs(err)
            +struct.pack('>B',kind)+qs(errtype)+struct.pack('>I',len(inputs))+b''.join(struct.pack('>Q',i) for i in inputs))
def counts(*c): return struct.pack('>6q',*c)
def keeper(k,threads,c,tasks,recent):
    return struct.pack('>ii',k,threads)+counts(*c)+struct.pack('>I',len(tasks))+b''.join(tasks)+struct.pack('>I',len(recent))+b''.join(recent)
def frame(p): return struct.pack('>I',len(p))+p
hello=b'\x01'+b'PKMON'+struct.pack('>I',2)
welcome=b'\x02'+struct.pack('>I',2)+qs('myapp')+struct.pack('>q',1234)+struct.pack('>I',2)+qs('images')+qs('io')
T=10**12
live=[task(5,'running',2,0,T,T+100,0,1),task(6,'queued',1,3,T+50,0,0,-1),task(7,'waiting',0,0,T+60,0,0,-1,None,1,None,(5,6))]
recent=[task(1,'ok',3,0,T-900,T-800,T-700,0),task(2,'failed',4,-1,T-850,T-700,T-600,1,'boom\nline 2',0,'std::runtime_error'),task(3,'cancelled',5,0,T-800,0,T-500,-1)]
snapshot=b'\x04'+b'\x00'+struct.pack('>Q',0)+struct.pack('>I',2)+keeper(0,2,(1,1,1,1,1,1),live,recent)+keeper(1,1,(0,0,0,0,0,0),[],[])
snapmore=b'\x04'+b'\x01'+struct.pack('>Q',3)+struct.pack('>I',1)+keeper(0,2,(0,1,0,0,0,0),live[1:],[])
update=b'\x05'+struct.pack('>Q',2)+struct.pack('>I',1)+keeper(0,2,(0,0,1,3,1,1),[task(5,'running',3,0,T,T+100,T+900,1),task(6,'queued',2,3,T+50,T+950,0,0)],[])
update2=b'\x05'+struct.pack('>Q',0)+struct.pack('>I',2)+keeper(1,1,(0,0,0,1,0,0),[task(8,'other',3,0,T+100,T+200,T+300,0)],[])+keeper(0,2,(0,0,0,5,1,1),[task(6,'queued',3,3,T+50,T+950,T+990,0)],[])
goodbye=b'\x06'+qs('closing')
reject=b'\x03'+struct.pack('>I',1)+qs('Protocol version mismatch')
canceltask=b'\x07'+struct.pack('>Q',42)
cancelall=b'\x08'
def w(d,name,b): open(os.path.join(root,d,name),'wb').write(b)
for n,p in [('hello',hello),('welcome',welcome),('reject',reject),('snapshot',snapshot),('snapshot-more',snapmore),('update',update),('update-two-keepers',update2),('goodbye',goodbye),('cancel-task',canceltask),('cancel-all',cancelall)]:
    w('decode',n,p)
w('frames','hello-cancels',b'\x07'+frame(hello)+frame(canceltask)+frame(cancelall))
w('frames','hello-bytewise',b'\x00'+frame(hello)+frame(cancelall))
w('frames','update-partial',b'\x40'+frame(update)+frame(update2)[:20])
w('remotefeed','session',frame(welcome)+frame(snapmore)+frame(snapshot)+frame(update)+frame(update2)+frame(goodbye))
w('remotefeed','snapshot-only',frame(welcome)+frame(snapshot))
w('remotefeed','reject',frame(reject))
# Traces: TraceWriter's format 2, its format 1, and a foreign Chrome trace.
base=T-1000000
def ev(**k): return k
events=[ev(name='process_name',ph='M',pid=1,tid=0,args={'name':'myapp'}),
 ev(name='thread_name',ph='M',pid=1,tid=1,args={'name':'worker 0'}),
 ev(name='queued',cat='queue',ph='b',pid=1,tid=0,id=1,ts=0.5,args={'id':1,'title':'ok','priority':0}),
 ev(name='queued',cat='queue',ph='e',pid=1,tid=0,id=1,ts=1.0),
 ev(name='ok',cat='task',ph='X',pid=1,tid=1,ts=1.0,dur=2.5,args={'id':1,'title':'ok','state':'Succeeded','priority':0,'worker':0}),
 ev(name='queued',cat='queue',ph='b',pid=1,tid=0,id=2,ts=0.7,args={'id':2,'title':'bad','priority':1}),
 ev(name='queued',cat='queue',ph='e',pid=1,tid=0,id=2,ts=2.0),
 ev(name='bad',cat='task',ph='X',pid=1,tid=2,ts=2.0,dur=1.0,args={'id':2,'title':'bad','state':'Failed','priority':1,'worker':1,'error':'boom'}),
 ev(name='queued',cat='queue',ph='b',pid=1,tid=0,id=3,ts=0.9,args={'id':3,'title':'waits','state':'Queued'}),
 ev(name='queued',ph='C',pid=1,tid=0,ts=1.0,args={'queued':2}),
 ev(name='running',ph='C',pid=1,tid=0,ts=1.0,args={'running':1})]
ours={'otherData':{'producer':'PromiseKeeper','format':2,'baseMonotonicNs':str(base),'threadCount':2,'tasks':3,'maxTasks':100000,'droppedTasks':0},'traceEvents':events}
w('tracereader','format2.json',json.dumps(ours).encode())
ours1=json.loads(json.dumps(ours)); ours1['otherData']['format']=1
for e in ours1['traceEvents']:
    if e.get('cat')=='queue': e['name']='task %d'%e['id']
w('tracereader','format1.json',json.dumps(ours1).encode())
w('tracereader','foreign.json',json.dumps([ev(name='a',ph='X',pid=1,tid=1,ts=10,dur=5),ev(name='b',ph='X',pid=1,tid=2,ts=12,dur=1)]).encode())
# Values out of range (issue 8): the monitor must close the connection / refuse the file.
bad=[task(9,'huge worker',2,0,T,T+100,0,2147483647)]
snapbad=b'\x04'+b'\x00'+struct.pack('>Q',0)+struct.pack('>I',1)+keeper(0,2,(0,0,1,0,0,0),bad,[])
w('remotefeed','worker-2147483647',frame(welcome)+frame(snapbad))
updbad=b'\x05'+struct.pack('>Q',0)+struct.pack('>I',1)+keeper(0,2,(0,0,0,1,0,0),[task(9,'overflow',3,0,-2**63,2**63-1,2**63-1,0)],[])
w('remotefeed','times-overflow',frame(welcome)+frame(snapshot)+frame(updbad))
w('decode','times-overflow',updbad)
bigw=json.loads(json.dumps(ours)); bigw['traceEvents'][4]['args']['worker']=2147483647
w('tracereader','worker-2147483647.json',json.dumps(bigw).encode())
bigts=json.loads(json.dumps(ours)); bigts['traceEvents'][4]['ts']=1e300
w('tracereader','ts-1e300.json',json.dumps(bigts).encode())
w('tracereader','foreign-tid-min.json',json.dumps([ev(name='a',ph='X',pid=1,tid=-2147483648,ts=10,dur=5)]).encode())
