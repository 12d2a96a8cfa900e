console.log('bridge placeholder');
