console.log('sfn-local placeholder');
